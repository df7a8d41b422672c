/**
 * The reader thread: bytes → decoded text → CSV records → typed facts, in batches to the writer.
 * Parsing and normalising cost more CPU than writing to SQLite, so they run here, beside the main
 * thread's writes. The writer acknowledges each batch; the reader stops reading while too many are
 * unacknowledged, so memory stays flat however large the file.
 */
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { pipeline } from "node:stream";
import { parentPort, workerData } from "node:worker_threads";
import { parse } from "csv-parse";
import iconv from "iconv-lite";
import { AppError, DataError, ExitCode } from "../../errors.js";
import {
  describeMissing,
  duplicateMappedHeaders,
  indexColumns,
  missingRequired,
  type Profile,
} from "../profiles.js";
import type { FactRecord, ReaderMessage, RejectedRow, RowProblem, WriterMessage } from "../records.js";
import { assembleOrder, readOrderRow, type OrderRow } from "../normalize/orders.js";
import { readCallRow, readCustomerRow, readProductRow } from "../normalize/catalog.js";
import { describeProblems, RowReader } from "../normalize/row.js";
import { makeStatusClassifier, type StatusClasses } from "../normalize/status.js";

/**
 * A large file is read by two readers, each from a record boundary. Rows of one order must stay in
 * one reader: the first reader finishes the order that straddles its end ("extend"), and the second
 * skips those rows ("skip"). Both recognise that order the same way: it is the one of the first row
 * at the boundary.
 */
export interface Segment {
  start: number; // byte offset of the first record (after a BOM or at a record boundary)
  end: number | null; // byte offset where the next segment starts, or null for the end of the file
  firstLine: number; // the file line at `start`
  headers: string[] | null; // known headers when the segment does not start with them
  boundary: "none" | "extend" | "skip";
}

export interface ReaderTask {
  path: string;
  displayName: string;
  segment: Segment;
  encoding: string;
  delimiter: string;
  profile: Profile;
  statuses: StatusClasses;
  keepRejectedCells: boolean;
}

/** Orders (or rows), good or rejected, per message to the writer: 1,000 orders of the benchmark are about 5,000 lines. */
const BATCH_RECORDS = 1000;
/** A batch also goes once it covers this much of the file, so a file of very long rows can't fill the reader's heap. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * A record longer than this is refused, not read: such a record is almost always a quote that is
 * never closed, and held as one field it would overflow the reader's capped heap (see readInWorkers).
 * Shop exports' longest fields, HTML product descriptions, are far shorter.
 */
const MAX_RECORD_BYTES = 4 * 1024 * 1024;
/** An order spanning more of the file than this is held in a reader's heap only with difficulty (see large-order). */
const LARGE_ORDER_BYTES = 8 * 1024 * 1024;
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
  /** File lines this reader has parsed in its segment: the progress line counts lines, not orders. */
  linesRead = 0;
  private bytesAtFlush = 0;

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
    return this.full() ? this.flush() : undefined;
  }

  /** Like record: a file of nothing but bad rows must not pile them up in the reader either. */
  reject(line: number, problems: RowProblem[], cells: string[]): Promise<void> | undefined {
    for (const problem of problems) {
      if (this.problemsSent < MAX_PROBLEMS_SENT) this.problems.push(problem);
      this.problemsSent += 1;
    }
    this.rejected.push({
      line,
      reason: describeProblems(problems),
      cells: this.keepRejectedCells ? cells : [],
    });
    return this.full() ? this.flush() : undefined;
  }

  private full(): boolean {
    return (
      this.records.length + this.rejected.length >= BATCH_RECORDS ||
      this.bytesRead - this.bytesAtFlush >= MAX_BATCH_BYTES
    );
  }

  async flush(): Promise<void> {
    const message: ReaderMessage = {
      type: "batch",
      records: this.records,
      rejected: this.rejected,
      problems: this.problems,
      bytesRead: this.bytesRead,
      linesRead: this.linesRead,
    };
    this.records = [];
    this.rejected = [];
    this.problems = [];
    this.bytesAtFlush = this.bytesRead;
    parentPort!.postMessage(message);
    this.unacked += 1;
    if (this.unacked >= MAX_UNACKED_BATCHES) await new Promise<void>((resolve) => (this.resume = resolve));
  }
}

/** Rows of the order being read, kept until a row of another order shows it is complete. */
interface PendingOrder {
  orderId: string;
  line: number;
  /** The file's bytes read when its first row came, and whether the writer was told it is large. */
  startBytes: number;
  large: boolean;
  rows: OrderRow[];
  bad: { line: number; problems: RowProblem[] }[];
  cells: { line: number; cells: string[] }[];
}

/**
 * CSV records of a byte range of the file, as arrays of cells, with backpressure: each step yields
 * every record the parser has ready, so the rows are read in a plain loop rather than a promise each.
 */
async function* records(
  task: ReaderTask,
  start: number,
  end: number | null,
  sender: BatchSender,
): AsyncGenerator<string[][]> {
  // 64 KiB reads, not 1 MiB: csv-parse turns a whole chunk into records at once, and the records of a
  // 1 MiB chunk (about 6,500) outlived the young generation's collections, so V8 copied and promoted
  // them. A 1M-line import measured 3 CPU-seconds and 40-50 MiB of peak RSS less (BENCHMARKS.md).
  const input = createReadStream(task.path, {
    start,
    end: end === null ? undefined : end - 1,
    highWaterMark: 64 * 1024,
  });
  const parser = parse({
    delimiter: task.delimiter,
    record_delimiter: recordDelimiter(task),
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: MAX_RECORD_BYTES,
  });
  input.on("data", (chunk) => (sender.bytesRead += chunk.length));
  // csv-parse reads UTF-8 bytes itself; other encodings are decoded to text first. pipeline carries
  // backpressure from the parser back to the file, and any stream's error to the consuming loop.
  const utf8 = /^utf-?8$/i.test(task.encoding);
  if (utf8) pipeline(input, parser, () => {});
  else pipeline(input, iconv.decodeStream(task.encoding), parser, () => {});
  let yielded = 0;
  try {
    for await (const first of parser as AsyncIterable<string[]>) {
      const ready = [first];
      for (let next: string[] | null = parser.read() as string[] | null; next !== null; next = parser.read())
        ready.push(next);
      yielded += ready.length;
      yield ready;
    }
  } catch (error) {
    // The parser may have made records past the consumer when it failed (they are dropped with it):
    // csv-parse's count of the records it made tells how many.
    const made = (error as { records?: number }).records;
    if (typeof made === "number") Object.assign(error as object, { dropped: Math.max(0, made - yielded) });
    throw error;
  }
}

/** How much of the file's start decides whether its line endings are mixed. */
const LINE_ENDING_SAMPLE = 64 * 1024;

/**
 * csv-parse takes the first line ending it meets for the whole file, so a CRLF header followed by LF
 * (or CR) rows read as one long row. A file that mixes them in its first 64 KiB is parsed with all
 * three (CRLF first, so it stays one break, also when a chunk ends between its two bytes); the others
 * keep the detection, which parsed a 300,000-line file in 2.3-2.6 s against 2.9-3.1 s with all three.
 * A mix that starts later still can't merge rows silently: the merged row is ragged, an error.
 */
function recordDelimiter(task: ReaderTask): string[] | undefined {
  const all = ["\r\n", "\n", "\r"];
  if (/^utf-?16/i.test(task.encoding)) return all; // two bytes a character: not counted here
  const head = Buffer.alloc(LINE_ENDING_SAMPLE);
  let length = 0;
  try {
    const fd = openSync(task.path, "r");
    try {
      length = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined; // the read stream reports the error
  }
  let crlf = false;
  let lf = false;
  let cr = false;
  for (let i = 0; i < length - 1; i++) {
    const byte = head[i];
    if (byte === 0x0d) {
      if (head[i + 1] === 0x0a) {
        crlf = true;
        i += 1;
      } else cr = true;
    } else if (byte === 0x0a) lf = true;
  }
  return Number(crlf) + Number(lf) + Number(cr) > 1 ? all : undefined;
}

/** The file line the next record starts on, where a CSV error is reported. */
const reading = { line: 0 };

async function run(task: ReaderTask): Promise<void> {
  const sender = new BatchSender(task.keepRejectedCells);
  const { segment } = task;
  let headers: string[] | null = segment.headers;
  let reader: RowReader | null = headers ? rowReader(task, headers, segment.firstLine) : null;
  reading.line = segment.firstLine;
  let rows = 0;
  const classify = makeStatusClassifier(task.statuses);
  const assembly = { defaultCurrency: task.profile.currency, classify, file: task.displayName };
  let pending: PendingOrder | null = null;
  const isOrders = task.profile.kind === "orders";

  // Rows are read synchronously; a promise is returned only when the writer is behind (see BatchSender).
  const flushOrder = (): Promise<void> | undefined => {
    const order = pending;
    pending = null;
    if (!order) return undefined;
    if (order.bad.length === 0) {
      const assembled = assembleOrder(order.rows, assembly);
      if ("lines" in assembled) return sender.record(assembled);
      order.bad.push({ line: assembled.line, problems: [assembled] });
    }
    // One bad row rejects its whole order: a partial order would misstate what was bought.
    const badLines = new Set(order.bad.map((b) => b.line));
    let wait: Promise<void> | undefined;
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
      wait = sender.reject(rowLine, problems, cells) ?? wait; // every batch filled goes; wait for the last
    }
    return wait;
  };

  const readRow = (cells: string[], recordLine: number): Promise<void> | undefined => {
    rows += 1;
    const row = reader!;
    row.start(cells, recordLine);
    const width = headers!.length;
    if (cells.length < width || cells.slice(width).some((cell) => cell.trim() !== "")) {
      row.problems.push({ line: recordLine, column: null, message: raggedMessage(cells, headers!) });
    }
    if (isOrders) {
      const orderId = row.text("order_id");
      // At most one order goes to the sender per row, so at most one wait is asked for.
      const wait = pending && pending.orderId !== orderId ? flushOrder() : undefined;
      pending ??= {
        orderId,
        line: recordLine,
        startBytes: sender.bytesRead,
        large: false,
        rows: [],
        bad: [],
        cells: [],
      };
      if (!pending.large && sender.bytesRead - pending.startBytes > LARGE_ORDER_BYTES) {
        pending.large = true;
        parentPort!.postMessage({ type: "large-order", line: pending.line } satisfies ReaderMessage);
      }
      const read = row.problems.length === 0 ? readOrderRow(row) : null;
      if (read) pending.rows.push(read);
      else pending.bad.push({ line: recordLine, problems: row.problems });
      pending.cells.push({ line: recordLine, cells: task.keepRejectedCells ? cells : [] });
      if (pending.cells.length > 10_000) return flushOrder(); // a runaway "order" must not hold the file in memory
      return wait;
    } else {
      const record =
        row.problems.length > 0
          ? null
          : task.profile.kind === "products"
            ? readProductRow(row, task.profile.currency)
            : task.profile.kind === "calls"
              ? readCallRow(row)
              : readCustomerRow(row);
      if (record) return sender.record(record);
      return sender.reject(recordLine, row.problems, cells);
    }
  };

  // The order whose rows the second reader skips at its start, and the first reader reads past its end.
  let straddling: string | null = null;
  for await (const ready of records(task, segment.start, segment.end, sender))
    for (const cells of ready) {
      const recordLine = reading.line;
      reading.line += 1 + lineBreaksIn(cells);
      sender.linesRead = reading.line - segment.firstLine;
      if (cells.length === 1 && cells[0]!.trim() === "") continue; // blank line
      if (headers === null) {
        headers = cells.map((h) => h.replace(/^\uFEFF/, "").trim());
        reader = rowReader(task, headers, recordLine);
        parentPort!.postMessage({ type: "header", headers } satisfies ReaderMessage);
        continue;
      }
      if (segment.boundary === "skip" && isOrders) {
        reader!.start(cells, recordLine);
        const orderId = reader!.text("order_id");
        if (straddling === null) straddling = orderId;
        if (orderId === straddling) continue;
        segment.boundary = "none";
      }
      const wait = readRow(cells, recordLine);
      if (wait) await wait;
    }
  if (segment.boundary === "extend" && segment.end !== null && isOrders && reader) {
    extend: for await (const ready of records(task, segment.end, null, sender))
      for (const cells of ready) {
        const recordLine = reading.line;
        reading.line += 1 + lineBreaksIn(cells);
        if (cells.length === 1 && cells[0]!.trim() === "") continue;
        reader.start(cells, recordLine);
        const orderId = reader.text("order_id");
        straddling ??= orderId;
        if (orderId !== straddling) break extend;
        const wait = readRow(cells, recordLine);
        if (wait) await wait;
      }
  }
  await flushOrder();
  if (headers === null) throw new DataError(`${task.displayName}: the file has no header row`);
  await sender.flush();
  parentPort!.postMessage({ type: "done", rows } satisfies ReaderMessage);
}

function rowReader(task: ReaderTask, headers: string[], line: number): RowReader {
  const duplicates = duplicateMappedHeaders(task.profile, headers);
  if (duplicates.length > 0) {
    throw new DataError(duplicates.map((problem) => `${task.displayName}:${line}: ${problem}`).join("\n"));
  }
  const index = indexColumns(task.profile, headers);
  const missing = missingRequired(task.profile, index);
  if (missing.length > 0) {
    throw new DataError(`${task.displayName}:${line}: ${describeMissing(task.profile, missing, headers)}`);
  }
  return new RowReader(task.profile, index, headers);
}

/**
 * Which columns a ragged row lacks or adds, by header and position, never by value (cells are
 * personal): `has 5 fields, the header has 6: no cell for "email" (column 6) (a delimiter or …)`.
 */
export function raggedMessage(cells: readonly string[], headers: readonly string[]): string {
  const width = headers.length;
  const named = (index: number) => `"${headers[index]}" (column ${index + 1})`;
  const list = (items: string[]) =>
    items.length <= 3 ? items.join(", ") : `${items.slice(0, 3).join(", ")} and ${items.length - 3} more`;
  let which: string;
  if (cells.length < width) {
    const missing = headers.slice(cells.length).map((_, i) => named(cells.length + i));
    which = `no cell for ${list(missing)}`;
  } else {
    const extra = cells
      .map((cell, index) => ({ cell, index }))
      .filter(({ cell, index }) => index >= width && cell.trim() !== "");
    which = `text in ${list(extra.map(({ index }) => `column ${index + 1}`))}, past the last header ${named(width - 1)}`;
  }
  return `has ${cells.length} fields, the header has ${width}: ${which} (a delimiter or a quote out of place?)`;
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
  const csv = error as { code?: string; message?: string; dropped?: number };
  if (typeof csv.code === "string" && csv.code.startsWith("CSV_")) {
    // csv-parse counts lines from where this reader started; `reading` knows the file's line. When
    // the parser had run ahead, the bad record is that many records further on.
    const dropped = csv.dropped ?? 0;
    const at = `${displayName}:${reading.line}`;
    const record =
      dropped === 0 ? "the record that starts here" : `the record ${dropped} after the one that starts here`;
    const check = "Check the quotes there, fix the file and import it again.";
    const message =
      csv.code === "CSV_MAX_RECORD_SIZE"
        ? `${at}: ${record} is longer than ${MAX_RECORD_BYTES / 1024 / 1024} MiB: probably a quote that is never closed. ${check}`
        : csv.code === "CSV_QUOTE_NOT_CLOSED"
          ? `${at}: a quote opened in ${record} is never closed. ${check}`
          : `${at}: the file is not valid CSV: ${csv.message ?? csv.code}`;
    return { type: "fatal", message, exitCode: ExitCode.dataError };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { type: "fatal", message: e.message, exitCode: ExitCode.bug, stack: e.stack };
}

const task = workerData as ReaderTask;
run(task).catch((error: unknown) => parentPort!.postMessage(fatal(error, task.displayName)));
