/**
 * The reader thread: bytes → decoded text → CSV records → typed facts, in batches to the writer.
 * Parsing and normalising cost more CPU than writing to SQLite, so they run here, beside the main
 * thread's writes. The writer acknowledges each batch; the reader stops reading while too many are
 * unacknowledged, so memory stays flat however large the file.
 */
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream";
import { parentPort, workerData } from "node:worker_threads";
import { parse } from "csv-parse";
import iconv from "iconv-lite";
import { AppError, DataError, ExitCode } from "../../errors.js";
import { indexColumns, missingRequired, describeMissing, type Profile } from "../profiles.js";
import type { FactRecord, ReaderMessage, RejectedRow, RowProblem, WriterMessage } from "../records.js";
import { assembleOrder, readOrderRow, type OrderRow } from "../normalize/orders.js";
import { readCustomerRow, readProductRow } from "../normalize/catalog.js";
import { describeProblems, RowReader } from "../normalize/row.js";
import { makeStatusClassifier, type StatusClasses } from "../normalize/status.js";

export interface ReaderTask {
  path: string;
  displayName: string;
  start: number; // bytes of BOM to skip
  encoding: string;
  delimiter: string;
  profile: Profile;
  statuses: StatusClasses;
  keepRejectedCells: boolean;
}

const BATCH_RECORDS = 2000;
const MAX_UNACKED_BATCHES = 4;
/** Without --skip-bad-rows only the first problems are shown; the rest are counted. */
const MAX_PROBLEMS_SENT = 20;

class BatchSender {
  private records: FactRecord[] = [];
  private rejected: RejectedRow[] = [];
  private problems: RowProblem[] = [];
  private problemsSent = 0;
  private unacked = 0;
  private resume: (() => void) | null = null;
  bytesRead = 0;

  constructor(private readonly keepRejectedCells: boolean) {
    parentPort!.on("message", (message: WriterMessage) => {
      if (message.type !== "ack") return;
      this.unacked -= 1;
      if (this.resume && this.unacked < MAX_UNACKED_BATCHES) {
        const resume = this.resume;
        this.resume = null;
        resume();
      }
    });
  }

  record(record: FactRecord): Promise<void> | undefined {
    this.records.push(record);
    return this.records.length >= BATCH_RECORDS ? this.flush() : undefined;
  }

  reject(line: number, problems: RowProblem[], cells: string[]): void {
    for (const problem of problems) {
      if (this.problemsSent < MAX_PROBLEMS_SENT) this.problems.push(problem);
      this.problemsSent += 1;
    }
    this.rejected.push({
      line,
      reason: describeProblems(problems),
      cells: this.keepRejectedCells ? cells : [],
    });
  }

  async flush(): Promise<void> {
    const message: ReaderMessage = {
      type: "batch",
      records: this.records,
      rejected: this.rejected,
      problems: this.problems,
      bytesRead: this.bytesRead,
    };
    this.records = [];
    this.rejected = [];
    this.problems = [];
    parentPort!.postMessage(message);
    this.unacked += 1;
    if (this.unacked >= MAX_UNACKED_BATCHES) await new Promise<void>((resolve) => (this.resume = resolve));
  }
}

/** Rows of the order being read, kept until a row of another order shows it is complete. */
interface PendingOrder {
  orderId: string;
  rows: OrderRow[];
  bad: { line: number; problems: RowProblem[] }[];
  cells: { line: number; cells: string[] }[];
}

async function run(task: ReaderTask): Promise<void> {
  const sender = new BatchSender(task.keepRejectedCells);
  const input = createReadStream(task.path, { start: task.start, highWaterMark: 1 << 20 });
  const parser = parse({ delimiter: task.delimiter, relax_column_count: true, relax_quotes: true });

  input.on("data", (chunk) => (sender.bytesRead += chunk.length));
  // pipeline carries backpressure from the parser back to the file, and any stream's error to the loop below.
  pipeline(input, iconv.decodeStream(task.encoding), parser, () => {});

  let headers: string[] | null = null;
  let reader: RowReader | null = null;
  let line = 1; // the file line the next record starts on
  let rows = 0;
  const classify = makeStatusClassifier(task.statuses);
  const assembly = {
    defaultCurrency: task.profile.currency,
    classify,
    nextOrdinal: new Map<string, number>(),
  };
  let pending: PendingOrder | null = null;

  const flushOrder = async (): Promise<void> => {
    const order = pending;
    pending = null;
    if (!order) return;
    if (order.bad.length === 0) {
      const assembled = assembleOrder(order.rows, assembly);
      if ("items" in assembled) return sender.record(assembled);
      order.bad.push({ line: assembled.line, problems: [assembled] });
    }
    // One bad row rejects its whole order: a partial order would misstate what was bought.
    const badLines = new Set(order.bad.map((b) => b.line));
    for (const { line: rowLine, cells } of order.cells) {
      const own = order.bad.find((b) => b.line === rowLine);
      const problems = own
        ? own.problems
        : [
            {
              line: rowLine,
              column: null,
              message: `rejected with its order "${order.orderId}" (see line ${[...badLines][0]})`,
            },
          ];
      sender.reject(rowLine, problems, cells);
    }
  };

  for await (const cells of parser as AsyncIterable<string[]>) {
    const recordLine = line;
    line += 1 + lineBreaksIn(cells);
    if (cells.length === 1 && cells[0]!.trim() === "") continue; // blank line
    if (headers === null) {
      headers = cells.map((h) => h.replace(/^\uFEFF/, "").trim());
      const index = indexColumns(task.profile, headers);
      const missing = missingRequired(task.profile, index);
      if (missing.length > 0) {
        throw new DataError(
          `${task.displayName}:${recordLine}: ${describeMissing(task.profile, missing, headers)}`,
        );
      }
      reader = new RowReader(task.profile, index, headers);
      parentPort!.postMessage({ type: "header", headers } satisfies ReaderMessage);
      continue;
    }
    rows += 1;
    const row = reader!;
    row.start(cells, recordLine);
    const extra = cells.slice(headers.length);
    if (cells.length < headers.length || extra.some((cell) => cell.trim() !== "")) {
      row.problems.push({
        line: recordLine,
        column: null,
        message: `has ${cells.length} fields, the header has ${headers.length} (a delimiter or a quote out of place?)`,
      });
    }
    if (task.profile.kind === "orders") {
      const orderId = row.text("order_id");
      if (pending && pending.orderId !== orderId) await flushOrder();
      pending ??= { orderId, rows: [], bad: [], cells: [] };
      const read = row.problems.length === 0 ? readOrderRow(row) : null;
      if (read) pending.rows.push(read);
      else pending.bad.push({ line: recordLine, problems: row.problems });
      pending.cells.push({ line: recordLine, cells: task.keepRejectedCells ? cells : [] });
      if (pending.cells.length > 10_000) await flushOrder(); // a runaway "order" must not hold the file in memory
    } else {
      const record =
        row.problems.length > 0
          ? null
          : task.profile.kind === "products"
            ? readProductRow(row, task.profile.currency)
            : readCustomerRow(row);
      if (record) await sender.record(record);
      else sender.reject(recordLine, row.problems, cells);
    }
  }
  await flushOrder();
  if (headers === null) throw new DataError(`${task.displayName}: the file has no header row`);
  await sender.flush();
  parentPort!.postMessage({ type: "done", rows } satisfies ReaderMessage);
}

function lineBreaksIn(cells: string[]): number {
  let breaks = 0;
  for (const cell of cells) {
    if (cell.length === 0) continue;
    for (let i = cell.indexOf("\n"); i !== -1; i = cell.indexOf("\n", i + 1)) breaks += 1;
    if (breaks === 0 && cell.includes("\r")) breaks += cell.split("\r").length - 1; // lone-CR files
  }
  return breaks;
}

function fatal(error: unknown, displayName: string): ReaderMessage {
  if (error instanceof AppError) return { type: "fatal", message: error.message, exitCode: error.exitCode };
  const csv = error as { code?: string; lines?: number; message?: string };
  if (typeof csv.code === "string" && csv.code.startsWith("CSV_")) {
    return {
      type: "fatal",
      message: `${displayName}:${csv.lines ?? "?"}: the file is not valid CSV: ${csv.message ?? csv.code}`,
      exitCode: ExitCode.dataError,
    };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { type: "fatal", message: e.message, exitCode: ExitCode.bug, stack: e.stack };
}

const task = workerData as ReaderTask;
run(task).catch((error: unknown) => parentPort!.postMessage(fatal(error, task.displayName)));
