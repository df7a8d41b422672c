import type { Db } from "../../store/open.js";
import { schemaVersion } from "../../store/open.js";
import { formatCount, plural, print, printJson, table, warn } from "../output.js";
import { outboxStatus, type OutboxStatus } from "../../deliver/outbox.js";
import { checkData, type DataChecks } from "../../plan/data-checks.js";
import { nowIso } from "../../time.js";
import { defaultConfig } from "../../config/load.js";
import { inspectLock, type LockView } from "../../deliver/lock.js";
import { describeHolder } from "../run-lock.js";

export interface StatusReport {
  database: string;
  schema_version: number;
  customers: number;
  orders: number;
  order_lines: number;
  products: number;
  guest_orders: number;
  imports: {
    file: string;
    kind: string;
    profile: string;
    finished_at: string;
    rows: number;
    report: Record<string, unknown>;
  }[];
  outbox: OutboxStatus;
  /** The run lock: its holder, heartbeat and whether it is stale (why), or null when none is held. */
  lock: LockView | null;
  /** Stale data and a timezone that disagrees with the export's offsets (src/plan/data-checks.ts). */
  data_checks?: DataChecks;
}

/** With `checks`, the data is checked as of `now` in the shop's timezone. */
export function collectStatus(
  db: Db,
  path: string,
  checks?: { timezone: string; now: string; lockExpiryMinutes?: number },
): StatusReport {
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  const imports = db
    .prepare<
      [],
      { file: string; kind: string; profile: string; finished_at: string; rows: number; report: string }
    >(
      "SELECT file, kind, profile, finished_at, rows, report FROM imports ORDER BY finished_at DESC, id DESC LIMIT 10",
    )
    .all()
    .map((row) => ({ ...row, report: JSON.parse(row.report) as Record<string, unknown> }));
  return {
    database: path,
    schema_version: schemaVersion(db),
    customers: count("SELECT count(*) FROM customers"),
    orders: count("SELECT count(*) FROM orders"),
    order_lines: count("SELECT count(*) FROM order_lines"),
    products: count("SELECT count(*) FROM products"),
    guest_orders: count("SELECT count(*) FROM orders WHERE customer_id IS NULL"),
    imports,
    outbox: outboxStatus(db, nowIso()),
    lock: inspectLock(db, {
      expiryMinutes: checks?.lockExpiryMinutes ?? defaultConfig(process.cwd()).delivery.lock_expiry_minutes,
    }),
    ...(checks && { data_checks: checkData(db, checks.timezone, checks.now) }),
  };
}

export function printStatus(status: StatusReport, json: boolean): void {
  for (const warning of status.data_checks?.warnings ?? []) warn(warning);
  if (json) return printJson(status);
  print(`Database ${status.database} (schema ${status.schema_version})`);
  print(
    table([
      ["customers", formatCount(status.customers)],
      ["orders", formatCount(status.orders)],
      ["order lines", formatCount(status.order_lines)],
      ["products", formatCount(status.products)],
      ["guest orders", formatCount(status.guest_orders)],
    ]),
  );
  printOutbox(status.outbox);
  if (status.lock) printLock(status.lock);
  if (status.imports.length === 0) {
    print("No imports yet.");
    return;
  }
  print("Last imports:");
  for (const entry of status.imports) {
    const counts = Object.entries(entry.report)
      .filter(([key, value]) => typeof value === "number" && value > 0 && key !== "seconds" && key !== "rows")
      .map(([key, value]) => `${key.replace("_", " ")} ${formatCount(value as number)}`)
      .join(", ");
    print(
      `  ${entry.finished_at}  ${entry.kind.padEnd(9)} ${entry.file}  (${entry.profile}; ${plural(entry.rows, "row")}${counts ? `; ${counts}` : ""})`,
    );
  }
}

function printOutbox(outbox: OutboxStatus): void {
  const states = Object.entries(outbox.by_state);
  if (states.every(([, n]) => n === 0)) return;
  print(
    `Outbox: ${states.map(([state, n]) => `${state === "sending" ? "unknown (sending)" : state} ${formatCount(n)}`).join(", ")}; ` +
      `due now ${formatCount(outbox.due_now)}; suppressed addresses ${formatCount(outbox.suppressions)}`,
  );
  if (outbox.unknown.length > 0) {
    print(
      `Unknown: ${plural(outbox.unknown.length, "message")} ${outbox.unknown.length === 1 ? "was" : "were"} being sent when a run was killed or the server's reply never came; they may or may not have arrived.`,
    );
    for (const row of outbox.unknown.slice(0, 20)) {
      print(
        `  ${row.key}  to ${row.recipient ?? "?"}, attempt ${row.attempts}, started ${row.claimed_at ?? "?"}`,
      );
    }
    if (outbox.unknown.length > 20) print(`  … and ${outbox.unknown.length - 20} more`);
    print(
      "  comeback send --retry-unknown sends them again (same Message-ID); otherwise they stay as they are.",
    );
  }
}

function printLock(lock: LockView): void {
  print(
    `Run lock: ${describeHolder(lock)}, last heartbeat ${lock.heartbeat_at ?? "none"}` +
      (lock.stale === null
        ? " (held)"
        : ` (stale: ${lock.stale}; the next weekly or send takes it over, or run comeback unlock)`),
  );
}
