import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import { ConfigError, InputMissingError } from "../../src/errors.js";
import { NOT_OFFERED } from "../../src/config/lifecycle.js";
import { interpolateString } from "../../src/config/env.js";
import { loadConfig, parseConfigText, type LoadedConfig } from "../../src/config/load.js";
import {
  DEFAULT_CANCELLED_STATUSES,
  DEFAULT_COMPLETED_STATUSES,
  closestKey,
  dateFormatProblem,
  editDistance,
  defaultConfig,
  type Config,
  type ProfileConfig,
} from "../../src/config/schema.js";
import { FIELDS_BY_KIND } from "../../src/import/fields.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "comeback-config-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(relative: string, text: string): Promise<string> {
  const file = path.join(dir, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text, "utf8");
  return file;
}

/** Loads `text` as ./comeback.yaml in the temp dir and returns the ConfigError it must throw. */
async function configError(text: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
  await write("comeback.yaml", text);
  const error = await loadConfig({ cwd: dir, env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).exitCode).toBe(78);
  return error as ConfigError;
}

const ORDERS_PROFILE = "profiles:\n  shop:\n    kind: orders\n";

describe("config file resolution", () => {
  beforeEach(async () => {
    await write("flag.yaml", "timezone: Europe/Berlin\n");
    await write("env/from-env.yaml", "timezone: Europe/Paris\n");
    await write("comeback.yaml", "timezone: Europe/Madrid\n");
  });

  it("prefers --config over $COMEBACK_CONFIG and ./comeback.yaml", async () => {
    const config = await loadConfig({
      configPath: "flag.yaml",
      env: { COMEBACK_CONFIG: "env/from-env.yaml" },
      cwd: dir,
    });
    expect(config.timezone).toBe("Europe/Berlin");
    expect(config.source).toBe(path.join(dir, "flag.yaml"));
  });

  it("uses $COMEBACK_CONFIG when there is no flag", async () => {
    const config = await loadConfig({ env: { COMEBACK_CONFIG: "env/from-env.yaml" }, cwd: dir });
    expect(config.timezone).toBe("Europe/Paris");
    expect(config.source).toBe(path.join(dir, "env", "from-env.yaml"));
  });

  it("uses ./comeback.yaml in the cwd when nothing is named", async () => {
    const config = await loadConfig({ env: {}, cwd: dir });
    expect(config.timezone).toBe("Europe/Madrid");
    expect(config.source).toBe(path.join(dir, "comeback.yaml"));
  });

  it("falls back to the built-in defaults, resolving paths against the cwd", async () => {
    await rm(path.join(dir, "comeback.yaml"));
    const config = await loadConfig({ env: {}, cwd: dir });
    expect(config.source).toBe("built-in defaults");
    expect(config.timezone).toBe("UTC");
    expect(config.currency).toBe("EUR");
    expect(config.database).toBe(path.join(dir, "comeback.db"));
    expect(config.log).toEqual({ level: "info", file: null });
    expect(config.profiles).toEqual({});
    expect(config.statuses.cancelled).toEqual(DEFAULT_CANCELLED_STATUSES);
    expect(config.statuses.completed).toEqual(DEFAULT_COMPLETED_STATUSES);
    // Compared with what a comeback.yaml without keys gives (comparing with defaultConfig(dir) would
    // compare the loader's value with itself): no file and an empty file mean the same config.
    await writeFile(path.join(dir, "comeback.yaml"), "# nothing set\n");
    const fromFile = await loadConfig({ env: {}, cwd: dir });
    expect(fromFile.source).toBe(path.join(dir, "comeback.yaml"));
    const { source: _source, ...rest } = config;
    const { source: _fileSource, ...restFromFile } = fromFile;
    expect(rest).toEqual(restFromFile);
  });

  it("reports a missing --config file with exit code 66, naming it and the flag", async () => {
    const error = await loadConfig({ configPath: "nope.yaml", env: {}, cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputMissingError);
    expect((error as InputMissingError).exitCode).toBe(66);
    expect((error as Error).message).toBe("config file nope.yaml not found (named by --config)");
  });

  it("reports a missing $COMEBACK_CONFIG file with exit code 66, naming it and the variable", async () => {
    const missing = path.join(dir, "elsewhere", "gone.yaml");
    const error = await loadConfig({ env: { COMEBACK_CONFIG: missing }, cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputMissingError);
    expect((error as InputMissingError).exitCode).toBe(66);
    expect((error as Error).message).toContain(path.join("elsewhere", "gone.yaml"));
    expect((error as Error).message).toContain("named by $COMEBACK_CONFIG");
  });

  it("does not fall back when an explicitly named file is missing, even if ./comeback.yaml exists", async () => {
    await expect(loadConfig({ configPath: "missing.yaml", env: {}, cwd: dir })).rejects.toThrow(
      InputMissingError,
    );
  });
});

describe("defaults and paths", () => {
  it("treats an empty file, or one with only comments, as the defaults", async () => {
    await write("comeback.yaml", "");
    const empty = await loadConfig({ env: {}, cwd: dir });
    expect(empty.timezone).toBe("UTC");
    expect(empty.database).toBe(path.join(dir, "comeback.db"));
    await write("comeback.yaml", "# nothing here yet\n");
    expect((await loadConfig({ env: {}, cwd: dir })).log.level).toBe("info");
  });

  it("resolves relative database and log paths against the config file's folder, not the cwd", async () => {
    const file = await write(
      "conf/shop.yaml",
      "database: data/shop.db\nlog:\n  file: ../logs/comeback.log\n",
    );
    const config = await loadConfig({ configPath: file, env: {}, cwd: path.join(dir, "somewhere-else") });
    expect(config.database).toBe(path.join(dir, "conf", "data", "shop.db"));
    expect(config.log.file).toBe(path.join(dir, "logs", "comeback.log"));
    expect(config.baseDir).toBe(path.join(dir, "conf"));
  });

  it("keeps absolute paths and resolves the default database next to the file", async () => {
    const absolute = path.join(dir, "abs", "x.db");
    await write("conf/a.yaml", `database: ${absolute}\n`);
    await write("conf/b.yaml", "timezone: UTC\n");
    expect((await loadConfig({ configPath: "conf/a.yaml", env: {}, cwd: dir })).database).toBe(absolute);
    expect((await loadConfig({ configPath: "conf/b.yaml", env: {}, cwd: dir })).database).toBe(
      path.join(dir, "conf", "comeback.db"),
    );
  });

  it("treats an empty section as its defaults and normalizes statuses and currency", async () => {
    await write(
      "comeback.yaml",
      "log:\nprofiles:\ncurrency: gbp\nstatuses:\n  cancelled: ['  Storno ', storno, 7]\n",
    );
    const config = await loadConfig({ env: {}, cwd: dir });
    expect(config.log.level).toBe("info");
    expect(config.profiles).toEqual({});
    expect(config.currency).toBe("GBP");
    expect(config.statuses.cancelled).toEqual(["storno", "7"]);
    expect(config.statuses.completed).toEqual(DEFAULT_COMPLETED_STATUSES);
  });

  it("fills a profile's defaults from the top level and its name", async () => {
    await write("comeback.yaml", `timezone: Europe/Vienna\ncurrency: CHF\n${ORDERS_PROFILE}`);
    const config = await loadConfig({ env: {}, cwd: dir });
    expect(config.profiles.shop).toEqual({
      name: "shop",
      kind: "orders",
      encoding: "auto",
      delimiter: "auto",
      date_format: "iso",
      timezone: "Europe/Vienna",
      decimal_separator: ".",
      currency: "CHF",
      source: "shop",
      columns: {},
    });
  });
});

describe("validation messages", () => {
  it("names an unknown top-level key and suggests the closest known one", async () => {
    const error = await configError("timezon: Europe/Berlin\n");
    expect(error.message).toBe(
      'comeback.yaml: unknown key "timezon" at the top level (did you mean "timezone"?)',
    );
  });

  it("names unknown nested keys with their path, and lists known keys when nothing is close", async () => {
    const error = await configError(`log:\n  levle: debug\n${ORDERS_PROFILE}    zzz: 1\n`);
    const lines = error.message.split("\n");
    expect(lines).toEqual([
      'comeback.yaml: unknown key "levle" at log (did you mean "level"?)',
      expect.stringMatching(
        /^comeback\.yaml: unknown key "zzz" at profiles\.shop \(known keys: kind, encoding, /,
      ),
    ]);
  });

  it("treats keys of sections that don't exist yet as unknown", async () => {
    const error = await configError("webhooks:\n  url: https://example.com\n");
    expect(error.message).toMatch(/^comeback\.yaml: unknown key "webhooks" at the top level/);
  });

  it("names the path, what was expected and what was found for a wrong value", async () => {
    const error = await configError(`${ORDERS_PROFILE}    decimal_separator: ";"\n`);
    expect(error.message).toBe(
      'comeback.yaml: profiles.shop.decimal_separator: expected "." or ",", got ";"',
    );
  });

  it("names the path for a wrong type", async () => {
    const error = await configError("database: 42\nlog:\n  level: [info]\n");
    expect(error.message.split("\n")).toEqual([
      "comeback.yaml: database: expected a string, got 42",
      'comeback.yaml: log.level: expected "fatal", "error", "warn", "info", "debug", "trace" or "silent", got a list',
    ]);
  });

  it("rejects a top level that is not a mapping", async () => {
    const error = await configError("- a\n- b\n");
    expect(error.message).toBe("comeback.yaml: the top level: expected a mapping, got a list");
  });

  it("rejects an invalid IANA timezone, at the top level and in a profile", async () => {
    const error = await configError(
      `timezone: Europe/Atlantis\n${ORDERS_PROFILE}    timezone: Mars/Olympus\n`,
    );
    expect(error.message.split("\n")).toEqual([
      'comeback.yaml: timezone: expected an IANA timezone such as "Europe/Berlin", got "Europe/Atlantis"',
      'comeback.yaml: profiles.shop.timezone: expected an IANA timezone such as "Europe/Berlin", got "Mars/Olympus"',
    ]);
  });

  it("rejects a currency that is not 3 letters", async () => {
    const error = await configError("currency: EURO\n");
    expect(error.message).toBe(
      'comeback.yaml: currency: expected a 3-letter ISO 4217 currency code such as "EUR", got "EURO"',
    );
  });

  it("requires a profile kind and checks profile names", async () => {
    const error = await configError("profiles:\n  my shop:\n    encoding: utf-8\n");
    expect(error.message.split("\n")).toEqual([
      'comeback.yaml: profiles["my shop"]: invalid profile name "my shop": use letters, digits, "-" and "_"',
      'comeback.yaml: profiles["my shop"].kind: expected "orders", "products", "customers" or "calls", got nothing (the key is missing)',
    ]);
  });

  it("checks delimiter, encoding and date format", async () => {
    const error = await configError(
      `${ORDERS_PROFILE}    delimiter: ":"\n    encoding: ""\n    date_format: MM/dd/yyyy hh:mm a\n`,
    );
    expect(error.message.split("\n")).toEqual([
      'comeback.yaml: profiles.shop.delimiter: expected "auto", ";", ",", "\\t" or "|", got ":"',
      'comeback.yaml: profiles.shop.encoding: expected a non-empty string, got ""',
      'comeback.yaml: profiles.shop.date_format: expected "iso" or a pattern of the tokens yyyy yy MM M dd d HH H mm ss SSS, got "MM/dd/yyyy hh:mm a" ("hh" is not a token)',
    ]);
  });

  it("accepts date patterns of the documented tokens and tab delimiters", async () => {
    await write(
      "comeback.yaml",
      `${ORDERS_PROFILE}    delimiter: "\\t"\n    date_format: dd.MM.yyyy HH:mm:ss.SSS\n` +
        "  other:\n    kind: orders\n    delimiter: tab\n    date_format: ISO\n",
    );
    const config = await loadConfig({ env: {}, cwd: dir });
    expect(config.profiles.shop?.delimiter).toBe("\t");
    expect(config.profiles.shop?.date_format).toBe("dd.MM.yyyy HH:mm:ss.SSS");
    expect(config.profiles.other?.delimiter).toBe("\t");
    expect(config.profiles.other?.date_format).toBe("iso");
  });

  it("rejects a status listed in both classes", async () => {
    const error = await configError("statuses:\n  cancelled: [Returned]\n  completed: [paid, returned]\n");
    expect(error.message).toBe(
      'comeback.yaml: statuses.completed: "returned" is listed both as cancelled and as completed',
    );
  });

  it("reports all problems, one per line in file order, at most 10", async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `bogus${i}: 1`).join("\n");
    const error = await configError(`database: 1\n${keys}\n`);
    const lines = error.message.split("\n");
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe("comeback.yaml: database: expected a string, got 1");
    expect(lines[1]).toMatch(/^comeback\.yaml: unknown key "bogus0" at the top level/);
    expect(lines[10]).toBe("… and 3 more problems");
  });
});

describe("profile columns", () => {
  it("accepts the canonical fields of each kind", async () => {
    const profiles = (Object.keys(FIELDS_BY_KIND) as (keyof typeof FIELDS_BY_KIND)[])
      .map((kind) => {
        const columns = FIELDS_BY_KIND[kind].map((field) => `      ${field}: Header ${field}`).join("\n");
        return `  ${kind}-profile:\n    kind: ${kind}\n    columns:\n${columns}`;
      })
      .join("\n");
    await write("comeback.yaml", `profiles:\n${profiles}\n`);
    const config = await loadConfig({ env: {}, cwd: dir });
    expect(config.profiles["products-profile"]?.columns).toEqual(
      Object.fromEntries(FIELDS_BY_KIND.products.map((field) => [field, `Header ${field}`])),
    );
    expect(Object.keys(config.profiles["orders-profile"]?.columns ?? {})).toEqual(FIELDS_BY_KIND.orders);
  });

  it("rejects a field of another kind, naming the path and listing the valid fields", async () => {
    const error = await configError(
      "profiles:\n  catalog:\n    kind: products\n    columns:\n      order_id: ID\n",
    );
    expect(error.message).toBe(
      'comeback.yaml: profiles.catalog.columns.order_id: "order_id" is not a field of products; ' +
        "the products fields are: sku, name, unit_price, currency, days_per_unit, group, variant_id, image_url",
    );
  });

  it("suggests the closest field for a typo, and checks columns even when other keys are wrong", async () => {
    const error = await configError(
      `${ORDERS_PROFILE}    decimal_separator: x\n    columns:\n      custmer_id: Kunde\n      email: ""\n`,
    );
    const lines = error.message.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain("profiles.shop.decimal_separator: expected");
    expect(lines[1]).toMatch(
      /^comeback\.yaml: profiles\.shop\.columns\.custmer_id: "custmer_id" is not a field of orders \(did you mean "customer_id"\?\); the orders fields are: order_id, ordered_at, /,
    );
    expect(lines[2]).toBe('comeback.yaml: profiles.shop.columns.email: expected a non-empty string, got ""');
  });

  it("rejects columns that are not a mapping", async () => {
    const error = await configError(`${ORDERS_PROFILE}    columns: [order_id]\n`);
    expect(error.message).toBe("comeback.yaml: profiles.shop.columns: expected a mapping, got a list");
  });
});

describe("environment interpolation", () => {
  it("replaces ${VAR}, uses ${VAR:-fallback} and keeps $${ literal", async () => {
    await write(
      "comeback.yaml",
      "database: ${DATA_DIR}/shop.db\ntimezone: ${SHOP_TZ:-Europe/Rome}\ncurrency: ${SHOP_CUR:-EUR}\n" +
        `${ORDERS_PROFILE}    columns:\n      order_id: "$\${literal}"\n`,
    );
    const config = await loadConfig({ env: { DATA_DIR: "/srv/data", SHOP_CUR: "usd" }, cwd: dir });
    expect(config.database).toBe("/srv/data/shop.db");
    expect(config.timezone).toBe("Europe/Rome");
    expect(config.currency).toBe("USD");
    expect(config.profiles.shop?.columns.order_id).toBe("${literal}");
  });

  it("names the key path and the variable when a variable is unset", async () => {
    const error = await configError(`${ORDERS_PROFILE}    source: \${SHOP_SOURCE}\n`);
    expect(error.message).toBe(
      "comeback.yaml: profiles.shop.source: environment variable SHOP_SOURCE is not set",
    );
  });

  it("rejects a malformed reference", async () => {
    const error = await configError("timezone: ${not a name}\n");
    expect(error.message).toMatch(/^comeback\.yaml: timezone: invalid reference "\$\{not a name\}"/);
  });

  it("does not show an interpolated value in a validation message", async () => {
    const error = await configError("currency: ${SECRET}\n", { SECRET: "hunter2" });
    expect(error.message).toBe(
      'comeback.yaml: currency: expected a 3-letter ISO 4217 currency code such as "EUR", got "${SECRET}" (its value is not shown)',
    );
    expect(error.message).not.toContain("hunter2");
  });

  it("interpolates after parsing, so a value cannot inject YAML structure", async () => {
    await write("comeback.yaml", "database: ${EVIL}\n");
    const config = await loadConfig({ env: { EVIL: "x.db\ntimezone: Bogus/Zone" }, cwd: dir });
    expect(config.timezone).toBe("UTC");
    expect(config.database).toBe(path.join(dir, "x.db\ntimezone: Bogus/Zone"));
  });

  it("follows sh for empty variables", () => {
    expect(interpolateString("${A}", { A: "" })).toEqual({ ok: true, value: "", interpolated: true });
    expect(interpolateString("${A:-b}", { A: "" })).toEqual({ ok: true, value: "b", interpolated: true });
    expect(interpolateString("a$b $${c} ${D}", { D: "d" })).toEqual({
      ok: true,
      value: "a$b ${c} d",
      interpolated: true,
    });
  });
});

describe("YAML syntax errors", () => {
  it("names the file, line and column", async () => {
    const error = await configError("timezone: UTC\nstatuses:\n  cancelled: [a, b\ncurrency: EUR\n");
    expect(error.message).toMatch(/^comeback\.yaml: YAML syntax error at line 4, column 1: /);
  });

  it("reports duplicate keys with their line", async () => {
    const error = await configError("timezone: UTC\ncurrency: EUR\ntimezone: Europe/Berlin\n");
    expect(error.message).toMatch(
      /^comeback\.yaml: YAML syntax error at line 3, column 1: Map keys must be unique/,
    );
  });

  it("names a config outside the cwd by its absolute path", () => {
    expect(() => parseConfigText("a: [", { label: "/etc/comeback.yaml", env: {}, baseDir: "/etc" })).toThrow(
      /^\/etc\/comeback\.yaml: YAML syntax error at line 1, column 5/,
    );
  });
});

describe("config.example.yaml", () => {
  it("validates, with its example profiles, and shows the defaults", async () => {
    const example = path.join(repoRoot, "config.example.yaml");
    const config: LoadedConfig = await loadConfig({ configPath: example, env: {}, cwd: repoRoot });
    const defaults = defaultConfig(repoRoot);
    expect(config.source).toBe(example);
    expect(config.database).toBe(defaults.database);
    expect(config.timezone).toBe(defaults.timezone);
    expect(config.currency).toBe(defaults.currency);
    expect(config.statuses).toEqual(defaults.statuses);
    expect(config.log).toEqual(defaults.log);
    expect(config.lifecycle).toEqual(defaults.lifecycle);
    expect(config.winback).toEqual(defaults.winback);

    expect(config.profiles["ru-shop"]).toEqual({
      name: "ru-shop",
      kind: "orders",
      encoding: "windows-1251",
      delimiter: ";",
      date_format: "dd.MM.yyyy HH:mm",
      timezone: "Europe/Moscow",
      decimal_separator: ",",
      currency: "RUB",
      source: "ru-shop",
      columns: {
        order_id: "Номер заказа",
        ordered_at: "Дата заказа",
        status: "Статус",
        customer_id: "Код клиента",
        customer_name: "Покупатель",
        email: "E-mail",
        phone: "Телефон",
        sku: "Артикул",
        product_name: "Наименование",
        quantity: "Кол-во",
        unit_price: "Цена",
        line_total: "Сумма",
        currency: "Валюта",
      },
    });
    const uk = config.profiles["uk-online-retail"];
    expect(uk?.timezone).toBe("Europe/London");
    expect(uk?.currency).toBe("GBP");
    expect(uk?.columns).toEqual({
      order_id: "InvoiceNo",
      sku: "StockCode",
      product_name: "Description",
      quantity: "Quantity",
      ordered_at: "InvoiceDate",
      unit_price: "UnitPrice",
      customer_id: "CustomerID",
    });
  });

  it("documents every top-level key", async () => {
    const text = await readFile(path.join(repoRoot, "config.example.yaml"), "utf8");
    for (const key of Object.keys(defaultConfig(repoRoot))) expect(text).toMatch(new RegExp(`^${key}:`, "m"));
  });
});

describe("helpers", () => {
  it("suggests only close keys", () => {
    expect(closestKey("Timezone", ["timezone", "currency"])).toBe("timezone");
    expect(closestKey("currecny", ["timezone", "currency"])).toBe("currency");
    expect(closestKey("levle", ["level", "file"])).toBe("level");
    expect(closestKey("smtp", ["timezone", "currency"])).toBeUndefined();
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("ab", "ba")).toBe(1);
  });

  it("checks date patterns", () => {
    expect(dateFormatProblem("d.M.yy H:mm")).toBeNull();
    expect(dateFormatProblem("MMM dd yyyy")).toBe('"MMM" is not a token');
    expect(dateFormatProblem("dd.MM HH:mm")).toBe("it has no year (yyyy or yy)");
    expect(dateFormatProblem("dd.MM.yyyy mm")).toBe("minutes (mm) need hours (HH or H)");
  });

  it("exports the Config and ProfileConfig types with defaults applied", () => {
    expectTypeOf<ProfileConfig["timezone"]>().toEqualTypeOf<string>();
    expectTypeOf<ProfileConfig["kind"]>().toEqualTypeOf<"orders" | "products" | "customers" | "calls">();
    expectTypeOf<ProfileConfig["columns"]>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<Config["log"]["file"]>().toEqualTypeOf<string | null>();
  });
});

describe("lifecycle and winback sections", () => {
  it("defaults to the issue's values", () => {
    const config = defaultConfig("/");
    expect(config.lifecycle).toEqual({
      model: "rhythm",
      warm_after: 1.5,
      cold_after: 2.5,
      lost_after: 4,
      min_days: { warm: 30, cold: 60, lost: 120 },
      warm_below: 0.7,
      cold_below: 0.4,
      lost_below: 0.15,
      new_until_quantile: 0.9,
    });
    expect(config.winback).toEqual({
      warm: { every_days: 14, call: true, email: "winback-warm", max_contacts: null },
      cold: { every_days: 30, call: true, email: "winback-cold", max_contacts: null },
      lost: { every_days: 60, call: false, email: "winback-lost", max_contacts: 3 },
      min_call_seconds: 20,
      customers_per_week: { percent: 4 },
      not_offered: NOT_OFFERED,
    });
    expect(config.delivery.surge_factor).toBe(3);
  });

  it("keeps a status's other defaults when one key is set, and email: false means none", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "comeback-config-"));
    await writeFile(
      path.join(dir, "comeback.yaml"),
      "winback:\n  lost: { every_days: 90, email: false }\nlifecycle:\n  min_days: { warm: 20 }\n",
    );
    const config = await loadConfig({ env: {}, cwd: dir });
    expect(config.winback.lost).toEqual({ every_days: 90, call: false, email: null, max_contacts: 3 });
    expect(config.winback.warm.every_days).toBe(14);
    expect(config.lifecycle.min_days).toEqual({ warm: 20, cold: 60, lost: 120 });
  });

  it("rejects thresholds out of order and unknown keys, naming the key", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "comeback-config-"));
    await writeFile(path.join(dir, "comeback.yaml"), "lifecycle:\n  cold_after: 1\n  lost_below: 0.5\n");
    const order = await loadConfig({ env: {}, cwd: dir }).catch((e: unknown) => e as Error);
    expect(order).toBeInstanceOf(ConfigError);
    expect((order as Error).message).toContain(
      "lifecycle.cold_after: must be at least warm_after (1.5), got 1",
    );
    expect((order as Error).message).toContain(
      "lifecycle.lost_below: must be at most cold_below (0.4), got 0.5",
    );

    await writeFile(
      path.join(dir, "comeback.yaml"),
      "lifecycle:\n  model: pareto\nwinback:\n  warm: { every: 14 }\n",
    );
    const keys = await loadConfig({ env: {}, cwd: dir }).catch((e: unknown) => e as Error);
    expect(keys).toBeInstanceOf(ConfigError);
    expect((keys as Error).message).toMatch(/lifecycle\.model: expected "rhythm" or "bgnbd", got "pareto"/);
    expect((keys as Error).message).toMatch(/winback\.warm.*every/);
  });
});
