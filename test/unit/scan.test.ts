import { createHash } from "node:crypto";
import { isUtf8 } from "node:buffer";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import iconv from "iconv-lite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanFile } from "../../src/import/read/scan.js";

const MiB = 1024 * 1024;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "comeback-scan-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixture(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** Catch what a promise rejects with, failing the test if it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error & { exitCode?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { exitCode?: number };
  }
  throw new Error("expected a rejection");
}

const RU =
  "Номер заказа;Дата заказа;Покупатель;Сумма\n1001;2024-03-01;Иванов Пётр;1500,00\n1002;2024-03-02;Смирнова Ольга;990,50\n";
const DE =
  "Bestellnummer;Datum;Kunde;Straße;Artikel\n1;2024-03-01;Müller;Hauptstraße 5;Größe M\n2;2024-03-02;Jürgen Weiß;Bahnhofstraße 1;Schuhe\n";

describe("scanFile: encodings", () => {
  it("UTF-8 without BOM", async () => {
    const bytes = Buffer.from("order_id,name\n1,Zoë Šimić\n2,Петров\n", "utf8");
    const path = await fixture("utf8.csv", bytes);
    const scan = await scanFile(path, "auto");
    expect(scan).toEqual({
      path,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      bytes: bytes.length,
      encoding: "utf-8",
      bomLength: 0,
      encodingDetected: true,
    });
  });

  it("pure ASCII is utf-8", async () => {
    const scan = await scanFile(await fixture("ascii.csv", Buffer.from("a,b\n1,2\n")), "auto");
    expect(scan.encoding).toBe("utf-8");
    expect(scan.bomLength).toBe(0);
  });

  it("UTF-8 with BOM", async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("id;Straße\n1;x\n", "utf8")]);
    const scan = await scanFile(await fixture("utf8bom.csv", bytes), "auto");
    expect(scan.encoding).toBe("utf-8");
    expect(scan.bomLength).toBe(3);
    expect(scan.bytes).toBe(bytes.length);
  });

  for (const [label, char, offset] of [
    ["2-byte é split 1|1", "é", MiB - 1],
    ["3-byte € split 1|2", "€", MiB - 1],
    ["3-byte € split 2|1", "€", MiB - 2],
    ["4-byte emoji split 1|3", "😀", MiB - 1],
    ["4-byte emoji split 3|1", "😀", MiB - 3],
  ] as const) {
    it(`UTF-8 with a ${label} across the 1 MiB chunk boundary stays utf-8`, async () => {
      const before = Buffer.alloc(offset, "a");
      const bytes = Buffer.concat([before, Buffer.from(`${char}bc\nПетров,Müller\n`, "utf8")]);
      expect(isUtf8(bytes)).toBe(true);
      expect(bytes.subarray(0, MiB).toString("utf8").endsWith("\ufffd")).toBe(true); // really split
      const scan = await scanFile(await fixture(`straddle-${offset}-${char.length}.csv`, bytes), "auto");
      expect(scan.encoding).toBe("utf-8");
      expect(scan.bytes).toBe(bytes.length);
      expect(scan.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    });
  }

  it("invalid UTF-8 after the first chunk is noticed (not utf-8)", async () => {
    const bytes = Buffer.concat([
      Buffer.alloc(MiB + 100, "a"),
      iconv.encode("\nMüller;Straße\n", "windows-1252"),
    ]);
    const scan = await scanFile(await fixture("late-latin.csv", bytes), "auto");
    expect(scan.encoding).toBe("windows-1252");
  });

  it("a file ending inside a multi-byte sequence is not utf-8", async () => {
    const bytes = iconv.encode("name\nCafé", "windows-1252"); // ends with 0xE9, a 3-byte lead byte
    const scan = await scanFile(await fixture("ends-cafe.csv", bytes), "auto");
    expect(scan.encoding).toBe("windows-1252");
  });

  it("UTF-16LE and UTF-16BE with BOM", async () => {
    const text = "Номер;Kunde\n1;Müller\n";
    const le = await scanFile(
      await fixture("le-bom.csv", iconv.encode(text, "utf-16le", { addBOM: true })),
      "auto",
    );
    expect(le).toMatchObject({ encoding: "utf-16le", bomLength: 2, encodingDetected: true });
    const be = await scanFile(
      await fixture("be-bom.csv", iconv.encode(text, "utf-16be", { addBOM: true })),
      "auto",
    );
    expect(be).toMatchObject({ encoding: "utf-16be", bomLength: 2, encodingDetected: true });
  });

  it("UTF-16LE and UTF-16BE without BOM are detected from the NUL pattern", async () => {
    const text = "order_id,email,name\n1,a@example.com,Müller\n2,b@example.com,Петров\n";
    const leBytes = iconv.encode(text, "utf-16le");
    expect(leBytes[0]).toBe(0x6f); // no BOM
    const le = await scanFile(await fixture("le.csv", leBytes), "auto");
    expect(le).toMatchObject({ encoding: "utf-16le", bomLength: 0 });
    const be = await scanFile(await fixture("be.csv", iconv.encode(text, "utf-16be")), "auto");
    expect(be).toMatchObject({ encoding: "utf-16be", bomLength: 0 });
  });

  it("windows-1251 Russian semicolon export", async () => {
    const bytes = iconv.encode(RU, "windows-1251");
    expect(isUtf8(bytes)).toBe(false);
    const scan = await scanFile(await fixture("ru1251.csv", bytes), "auto");
    expect(scan).toMatchObject({ encoding: "windows-1251", bomLength: 0, encodingDetected: true });
    expect(iconv.decode(bytes, scan.encoding)).toBe(RU);
  });

  it("windows-1252 German", async () => {
    const bytes = iconv.encode(DE, "windows-1252");
    const scan = await scanFile(await fixture("de1252.csv", bytes), "auto");
    expect(scan).toMatchObject({ encoding: "windows-1252", bomLength: 0, encodingDetected: true });
    expect(iconv.decode(bytes, scan.encoding)).toBe(DE);
  });

  it("a short German sample (Müller, Straße, Größe) is windows-1252", async () => {
    const bytes = iconv.encode("name,street,size\nMüller,Straße 1,Größe\n", "windows-1252");
    expect((await scanFile(await fixture("de-short.csv", bytes), "auto")).encoding).toBe("windows-1252");
  });

  it("French and Spanish accents are windows-1252", async () => {
    const bytes = iconv.encode(
      "client;ville\nSociété Générale;Besançon\nPeña;Año\n¿Qué?;à côté\n",
      "windows-1252",
    );
    expect((await scanFile(await fixture("fr-es.csv", bytes), "auto")).encoding).toBe("windows-1252");
  });

  it("a stray run of accented capitals is outvoted by accented letters between Latin ones", async () => {
    const bytes = iconv.encode("brand;customer\nÆØÅ Design;Müller\nAcme;Weiß\nAcme;Jürgen\n", "windows-1252");
    const scan = await scanFile(await fixture("de-stray-run.csv", bytes), "auto");
    expect(scan.encoding).toBe("windows-1252");
  });

  it("a mostly-ASCII file with a single Cyrillic surname is windows-1251", async () => {
    const rows = ["order_id,email,last_name,total"];
    for (let i = 1; i <= 500; i++) rows.push(`${i},customer${i}@example.com,Smith,${i}.00`);
    rows.push("501,ivan@example.ru,Петров,12.00");
    const bytes = iconv.encode(rows.join("\n") + "\n", "windows-1251");
    const scan = await scanFile(await fixture("one-cyrillic.csv", bytes), "auto");
    expect(scan.encoding).toBe("windows-1251");
  });

  it("Ё/ё count as Cyrillic letters", async () => {
    const bytes = iconv.encode("name\nЁлкин\nё\n", "windows-1251");
    expect((await scanFile(await fixture("yo.csv", bytes), "auto")).encoding).toBe("windows-1251");
  });
});

describe("scanFile: explicit encoding", () => {
  it("uses the profile's encoding as given and reports it as not detected", async () => {
    const bytes = iconv.encode(RU, "windows-1251");
    const scan = await scanFile(await fixture("explicit1251.csv", bytes), "cp1251");
    expect(scan).toMatchObject({ encoding: "cp1251", bomLength: 0, encodingDetected: false });
  });

  it("an explicit encoding wins over detection", async () => {
    const bytes = Buffer.from("a,b\n1,2\n");
    const scan = await scanFile(await fixture("explicit-latin1.csv", bytes), "ISO-8859-1");
    expect(scan).toMatchObject({ encoding: "ISO-8859-1", encodingDetected: false });
  });

  it("skips a BOM that matches the explicit encoding, and only then", async () => {
    const utf8bom = await fixture("explicit-bom.csv", Buffer.from("\ufeffa,b\n", "utf8"));
    expect(await scanFile(utf8bom, "utf-8")).toMatchObject({ encoding: "utf-8", bomLength: 3 });
    expect(await scanFile(utf8bom, "windows-1252")).toMatchObject({ encoding: "windows-1252", bomLength: 0 });
    const le = await fixture("explicit-le.csv", iconv.encode("a,b\n", "utf-16le", { addBOM: true }));
    expect(await scanFile(le, "utf-16le")).toMatchObject({ encoding: "utf-16le", bomLength: 2 });
    const be = await fixture("explicit-be.csv", iconv.encode("a,b\n", "utf-16be", { addBOM: true }));
    expect(await scanFile(be, "utf-16be")).toMatchObject({ encoding: "utf-16be", bomLength: 2 });
    expect(await scanFile(be, "utf-16")).toMatchObject({ encoding: "utf-16be", bomLength: 2 });
  });

  it("refuses UTF-16 data when the profile names a single-byte encoding", async () => {
    const path = await fixture("explicit-mismatch.csv", iconv.encode("order_id,name\n1,x\n", "utf-16le"));
    const err = await rejection(scanFile(path, "windows-1252"));
    expect(err.exitCode).toBe(65);
    expect(err.message).toMatch(/UTF-16LE.*set the encoding to utf-16le or auto/);
  });

  it("rejects an unknown encoding with exit 78 and examples", async () => {
    const path = await fixture("unknown-enc.csv", Buffer.from("a,b\n"));
    const err = await rejection(scanFile(path, "klingon-8"));
    expect(err.name).toBe("ConfigError");
    expect(err.exitCode).toBe(78);
    expect(err.message).toContain('"klingon-8"');
    expect(err.message).toContain("windows-1251");
  });
});

describe("scanFile: not CSV", () => {
  it("xlsx / zip", async () => {
    const path = await fixture(
      "orders.xlsx",
      Buffer.from([0x50, 0x4b, 3, 4, 0x14, 0, 6, 0, 8, 0, 0, 0, 0x21, 0]),
    );
    const err = await rejection(scanFile(path, "auto"));
    expect(err.name).toBe("DataError");
    expect(err.exitCode).toBe(65);
    expect(err.message).toContain(path);
    expect(err.message).toContain("looks like an Excel .xlsx or a zip archive, not CSV");
    expect(err.message).toContain("File → Save As → CSV UTF-8");
  });

  it("old Excel .xls (OLE)", async () => {
    const path = await fixture(
      "orders.xls",
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]),
    );
    const err = await rejection(scanFile(path, "auto"));
    expect(err.exitCode).toBe(65);
    expect(err.message).toMatch(/old Excel \.xls/);
  });

  it("the magic-byte checks apply with an explicit encoding too", async () => {
    const path = await fixture("orders2.xls", Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]));
    const err = await rejection(scanFile(path, "utf-8"));
    expect(err.message).toMatch(/old Excel \.xls/);
  });

  it("PDF", async () => {
    const path = await fixture("orders.pdf", Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "latin1"));
    const err = await rejection(scanFile(path, "auto"));
    expect(err.exitCode).toBe(65);
    expect(err.message).toMatch(/is a PDF document, not CSV/);
  });

  it("gzip", async () => {
    const path = await fixture("orders.csv.gz", gzipSync(Buffer.from("a,b\n1,2\n")));
    const err = await rejection(scanFile(path, "auto"));
    expect(err.exitCode).toBe(65);
    expect(err.message).toContain("compressed with gzip: unpack it first (gunzip ");
    expect(err.message).toContain(`(gunzip ${path})`);
  });

  it("random binary", async () => {
    // Deterministic pseudo-random bytes (an LCG), starting with no known magic number.
    const bytes = Buffer.alloc(20_000);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    bytes[0] = 0x41;
    expect(bytes.subarray(0, 8192).includes(0)).toBe(true);
    const err = await rejection(scanFile(await fixture("random.bin", bytes), "auto"));
    expect(err.exitCode).toBe(65);
    expect(err.message).toMatch(/contains NUL bytes, so it looks like a binary file, not CSV/);
  });

  it("empty file", async () => {
    const path = await fixture("empty.csv", Buffer.alloc(0));
    const err = await rejection(scanFile(path, "auto"));
    expect(err.exitCode).toBe(65);
    expect(err.message).toBe(`${path} is empty (0 bytes): export the data again from your shop system`);
  });

  it("a file with only a BOM is empty", async () => {
    for (const [name, bom] of [
      ["bom8.csv", [0xef, 0xbb, 0xbf]],
      ["bomle.csv", [0xff, 0xfe]],
      ["bombe.csv", [0xfe, 0xff]],
    ] as const) {
      const path = await fixture(name, Buffer.from(bom));
      const err = await rejection(scanFile(path, "auto"));
      expect(err.exitCode).toBe(65);
      expect(err.message).toContain(`${path} is empty`);
    }
  });
});

describe("scanFile: missing input", () => {
  it("missing file → exit 66 naming the path", async () => {
    const path = join(dir, "no-such-file.csv");
    const err = await rejection(scanFile(path, "auto"));
    expect(err.name).toBe("InputMissingError");
    expect(err.exitCode).toBe(66);
    expect(err.message).toBe(`cannot read ${path}: file not found`);
  });

  it("a directory → exit 66, is a directory", async () => {
    const path = join(dir, "a-dir");
    await mkdir(path);
    const err = await rejection(scanFile(path, "auto"));
    expect(err.exitCode).toBe(66);
    expect(err.message).toBe(`cannot read ${path}: is a directory`);
  });

  // Root reads a file whatever its mode bits, so as root (CI runs as root) there is nothing to refuse.
  it.skipIf(process.getuid?.() === 0)("unreadable file → exit 66, permission denied", async () => {
    const path = await fixture("secret.csv", Buffer.from("a,b\n"));
    await chmod(path, 0o000);
    const err = await rejection(scanFile(path, "auto"));
    expect(err.exitCode).toBe(66);
    expect(err.message).toBe(`cannot read ${path}: permission denied`);
  });
});

describe("scanFile: sha256", () => {
  it("equals crypto.createHash over the same bytes, across several chunks", async () => {
    const bytes = Buffer.alloc(3 * MiB + 12345);
    for (let i = 0; i < bytes.length; i++) bytes[i] = 0x20 + (i % 90);
    const scan = await scanFile(await fixture("hash.csv", bytes), "auto");
    expect(scan.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(scan.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(scan.bytes).toBe(bytes.length);
  });
});
