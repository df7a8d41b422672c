/**
 * Imports one file: scan (hash, encoding), choose the profile from the header, then read in a worker
 * thread while this thread writes, all in one transaction. A file that fails commits nothing.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { basename } from "node:path";
import { Worker } from "node:worker_threads";
import { parse as parseCsv } from "csv-parse/sync";
import iconv from "iconv-lite";
import { AppError, DataError, ExitCode } from "../errors.js";
import type { Db } from "../store/open.js";
import { nowIso } from "../time.js";
import type { ImportKind } from "./fields.js";
import { firstLine, parseDelimiterSetting, sniffDelimiter } from "./read/delimiter.js";
import { scanFile, type FileScan } from "./read/scan.js";
import type { ReaderTask, Segment } from "./read/worker.js";
import {
  describeMissing,
  detectProfile,
  indexColumns,
  missingRequired,
  namedProfile,
  profilesFor,
  type Profile,
  type ProfileSettings,
} from "./profiles.js";
import type {
  CallRecord,
  CustomerRecord,
  FactRecord,
  OrderRecord,
  ProductRecord,
  ReaderMessage,
  RowProblem,
} from "./records.js";
import type { StatusClasses } from "./normalize/status.js";
import { CallWriter } from "./write/calls.js";
import { CustomerWriter } from "./write/customers.js";
import { OrderWriter } from "./write/orders.js";
import { ProductWriter } from "./write/products.js";
import { RejectedFile } from "./rejected.js";
import { OffsetTally, recordOffsets } from "./offsets.js";

export interface ImportSettings {
  timezone: string;
  currency: string;
  statuses: StatusClasses;
  profiles: Record<string, ProfileSettings>;
}

export interface ImportOptions {
  kind: ImportKind;
  profile?: string;
  source?: string;
  dryRun?: boolean;
  skipBadRows?: boolean;
  force?: boolean;
  /** Called now and then while reading, for a progress line on a terminal. */
  onProgress?: (progress: { file: string; bytesRead: number; bytes: number; lines: number }) => void;
}

/** The report of one file. Order imports have exactly the documented keys; products and customers their own counts. */
export interface ImportReport {
  file: string;
  profile: string;
  already_imported: boolean;
  rows: number;
  rejected: number;
  /** Cells a row could do without that did not parse: the row was kept with the field empty. */
  warnings: number;
  /** The first MAX_WARNINGS_LISTED of them; `warnings` counts them all. */
  warning_list: ImportWarning[];
  seconds: number;
  [count: string]: string | number | boolean | ImportWarning[];
}

/** A warning as reported: where, the file's header, and the value's shape, never the value. */
export interface ImportWarning {
  line: number;
  column: string | null;
  message: string;
}

export interface ImportResult {
  report: ImportReport;
  dryRun: boolean;
  rejectedFile: string | null;
  encoding: string;
  delimiter: string;
  /** An orders import's offsets and currencies (absent when the file was already imported). */
  offsets?: OffsetTally;
}

const MAX_PROBLEMS_SHOWN = 20;
/**
 * Warnings listed in a report (and kept with it in the database); more are counted. A column that is
 * odd on every row would otherwise list every row of a large file.
 */
export const MAX_WARNINGS_LISTED = 1000;

export async function importFile(
  db: Db,
  settings: ImportSettings,
  path: string,
  options: ImportOptions,
): Promise<ImportResult> {
  const started = process.hrtime.bigint();
  const startedAt = nowIso();
  const display = basename(path);
  const defaults = { timezone: settings.timezone, currency: settings.currency };
  const named = options.profile
    ? namedProfile(options.profile, options.kind, settings.profiles, defaults)
    : null;

  const scan = await scanFile(path, named?.encoding ?? "auto");
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;

  const header = readHeader(scan, named);
  const profile = named ?? chooseProfile(options.kind, settings, header.cells, display, header.line);
  // A named profile was scanned with its own encoding; a detected one may name an encoding the scan didn't use.
  const encoding = named || profile.encoding === "auto" ? scan.encoding : profile.encoding;
  const delimiter = resolveDelimiter(profile, header.text);
  const source = options.source ?? profile.source;

  const previous = db
    .prepare<[string, string], { rows: number }>("SELECT rows FROM imports WHERE sha256 = ? AND kind = ?")
    .get(scan.sha256, options.kind);
  if (previous && !options.force) {
    return {
      report: {
        file: path,
        profile: profile.name,
        already_imported: true,
        rows: previous.rows,
        ...ZERO_COUNTS[options.kind],
        rejected: 0,
        warnings: 0,
        warning_list: [],
        seconds: round(seconds()),
      },
      dryRun: Boolean(options.dryRun),
      rejectedFile: null,
      encoding,
      delimiter,
    };
  }

  const tasks: ReaderTask[] = planSegments(scan, encoding, header).map((segment) => ({
    path,
    displayName: display,
    segment,
    encoding,
    delimiter,
    profile,
    statuses: settings.statuses,
    keepRejectedCells: Boolean(options.skipBadRows),
  }));

  const now = nowIso();
  // The import's working set is the indexes it looks rows up in; a 1M-line import ran as fast with
  // 8 MiB of page cache as with the default 32, and its peak RSS was 25 MiB lower.
  const cacheSize = db.pragma("cache_size", { simple: true }) as number;
  db.exec("BEGIN IMMEDIATE");
  let committed = false;
  // A dry run keeps no rejected file, so it writes none, not even beside a read-only export.
  const rejected = options.skipBadRows && !options.dryRun ? new RejectedFile(path) : null;
  const offsets = options.kind === "orders" ? new OffsetTally() : null;
  try {
    db.pragma(`cache_size = ${IMPORT_CACHE_SIZE}`);
    const importId = Number(
      db
        .prepare(
          `INSERT INTO imports (file, sha256, kind, profile, source, encoding, rows, report, started_at, finished_at)
           VALUES (?, ?, ?, ?, ?, ?, 0, '{}', ?, ?)
           ON CONFLICT (sha256, kind) DO UPDATE SET file = excluded.file, profile = excluded.profile,
             source = excluded.source, started_at = excluded.started_at
           RETURNING id`,
        )
        .pluck()
        .get(path, scan.sha256, options.kind, profile.name, source, encoding, startedAt, startedAt),
    );
    const customers = new CustomerWriter(db, now);
    const sink = makeSink(db, options.kind, source, now, importId, customers, display);
    const warnings = new WarningList();
    const outcome = await readInWorkers(tasks, {
      onRecords: (records) => {
        for (const record of records) {
          sink.write(record);
          offsets?.add(record as OrderRecord);
          if ("warnings" in record && record.warnings !== undefined) warnings.add(record.warnings);
        }
      },
      onRejected: (rows) => rejected?.add(rows),
      onHeader: (headers) => rejected?.start(headers),
      onProgress: (bytesRead, lines) =>
        options.onProgress?.({ file: display, bytesRead, bytes: scan.bytes, lines }),
      stopWritingOnProblem: !options.skipBadRows,
    });
    if (outcome.rejectedCount > 0 && !options.skipBadRows) {
      throw new DataError(
        describeBadRows(display, outcome.problems, outcome.rejectedCount, outcome.problemCount),
      );
    }
    const customerCounts = customers.finish();
    if (offsets) recordOffsets(db, importId, offsets);
    const report: ImportReport = {
      file: path,
      profile: profile.name,
      already_imported: false,
      rows: outcome.rows,
      ...sink.counts(customerCounts),
      rejected: outcome.rejectedCount,
      warnings: warnings.count,
      warning_list: warnings.listed(),
      seconds: round(seconds()),
    };
    db.prepare("UPDATE imports SET rows = ?, report = ?, finished_at = ? WHERE id = ?").run(
      outcome.rows,
      // The report kept with the import (status shows it) lists the warnings a terminal shows.
      JSON.stringify({ ...report, warning_list: report.warning_list.slice(0, MAX_PROBLEMS_SHOWN) }),
      nowIso(),
      importId,
    );
    if (options.dryRun) {
      db.exec("ROLLBACK");
    } else {
      db.exec("COMMIT");
      committed = true;
    }
    const rejectedFile = rejected ? await rejected.finish(!options.dryRun) : null;
    report.seconds = round(seconds());
    return {
      report,
      dryRun: Boolean(options.dryRun),
      rejectedFile,
      encoding,
      delimiter,
      ...(offsets && { offsets }),
    };
  } catch (error) {
    if (!committed && db.inTransaction) db.exec("ROLLBACK");
    await rejected?.discard();
    throw error;
  } finally {
    db.pragma(`cache_size = ${cacheSize}`);
  }
}

/** SQLite's page cache during an import, in its unit (negative: KiB). */
const IMPORT_CACHE_SIZE = -8192;

/** The warnings of the records written, counted, and the first ones kept in file order. */
class WarningList {
  count = 0;
  private readonly kept: ImportWarning[] = [];

  add(warnings: readonly ImportWarning[]): void {
    this.count += warnings.length;
    for (const warning of warnings)
      this.kept.push({ line: warning.line, column: warning.column, message: warning.message });
    // Two readers' batches come interleaved: the first ones in file order are the lowest lines.
    if (this.kept.length >= 2 * MAX_WARNINGS_LISTED) this.cut();
  }

  listed(): ImportWarning[] {
    this.cut();
    return this.kept;
  }

  private cut(): void {
    this.kept.sort((a, b) => a.line - b.line);
    this.kept.length = Math.min(this.kept.length, MAX_WARNINGS_LISTED);
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

interface Sink {
  write(record: FactRecord): void;
  counts(customers: { created: number; updated: number; unchanged: number }): Record<string, number>;
}

function makeSink(
  db: Db,
  kind: ImportKind,
  source: string,
  now: string,
  importId: number,
  customers: CustomerWriter,
  display: string,
): Sink {
  if (kind === "orders") {
    const orders = new OrderWriter(db, source, now, importId, customers, display);
    return {
      write: (record) => orders.write(record as OrderRecord),
      counts: (c) => {
        const o = orders.finish();
        return {
          orders_new: o.orders_new,
          orders_updated: o.orders_updated,
          orders_unchanged: o.orders_unchanged,
          lines_new: o.lines_new,
          customers_new: c.created,
          guest_orders: o.guest_orders,
          status_changes: o.status_changes,
        };
      },
    };
  }
  if (kind === "calls") {
    const calls = new CallWriter(db, importId);
    return {
      write: (record) => calls.write(record as CallRecord),
      counts: () => ({ ...calls.counts }),
    };
  }
  if (kind === "products") {
    const products = new ProductWriter(db, now);
    return {
      write: (record) => products.write(record as ProductRecord),
      counts: () => ({ ...products.counts }),
    };
  }
  return {
    // A customers export states the customer as of now: it wins over what older orders said.
    write: (record) => void customers.resolve((record as CustomerRecord).customer, now),
    counts: (c) => ({
      customers_new: c.created,
      customers_updated: c.updated,
      customers_unchanged: c.unchanged,
    }),
  };
}

const ZERO_COUNTS: Record<ImportKind, Record<string, number>> = {
  orders: {
    orders_new: 0,
    orders_updated: 0,
    orders_unchanged: 0,
    lines_new: 0,
    customers_new: 0,
    guest_orders: 0,
    status_changes: 0,
  },
  products: { products_new: 0, products_updated: 0, products_unchanged: 0 },
  customers: { customers_new: 0, customers_updated: 0, customers_unchanged: 0 },
  calls: { calls_new: 0, calls_known: 0 },
};

/** The header row, decoded with the scanned encoding, for choosing the profile and the delimiter. */
function readHeader(scan: FileScan, named: Profile | null): { text: string; cells: string[]; line: number } {
  const fd = openSync(scan.path, "r");
  const buffer = Buffer.alloc(Math.min(scan.bytes, 256 * 1024));
  try {
    readSync(fd, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(fd);
  }
  const encoding = named && named.encoding !== "auto" ? named.encoding : scan.encoding;
  const decoded = iconv.decode(buffer.subarray(scan.bomLength), encoding);
  // Skip blank lines above the header, as the reader does.
  const leading = decoded.match(/^(?:[ \t]*(?:\r\n|\n|\r))*/)?.[0] ?? "";
  const text = decoded.slice(leading.length);
  const line = 1 + (leading.match(/\r\n|\n|\r/g)?.length ?? 0);
  const headerLine = firstLine(text);
  const setting = named ? parseDelimiterSetting(named.delimiter) : "auto";
  const delimiter = setting === "auto" ? sniffDelimiter(headerLine) : setting;
  const rows = parseCsv(headerLine, {
    delimiter,
    relax_quotes: true,
    relax_column_count: true,
  }) as string[][];
  return { text: headerLine, cells: (rows[0] ?? []).map((h) => h.trim()), line };
}

function chooseProfile(
  kind: ImportKind,
  settings: ImportSettings,
  headers: string[],
  display: string,
  line: number,
): Profile {
  const candidates = profilesFor(kind, settings.profiles, {
    timezone: settings.timezone,
    currency: settings.currency,
  });
  const { best, fits } = detectProfile(candidates, headers);
  if (!fits) {
    const missing = missingRequired(best, indexColumns(best, headers));
    throw new DataError(
      `${display}:${line}: no profile for ${kind} fits this header; closest is "${best.name}": ${describeMissing(best, missing, headers)}. ` +
        `Name a profile with --profile, or map the columns in a profile in the config (see config.example.yaml).`,
    );
  }
  return best;
}

function resolveDelimiter(profile: Profile, headerLine: string): string {
  const setting = parseDelimiterSetting(profile.delimiter);
  return setting === "auto" ? sniffDelimiter(headerLine) : setting;
}

function describeBadRows(
  display: string,
  problems: RowProblem[],
  rejectedRows: number,
  problemCount: number,
): string {
  const lines = problems
    .slice(0, MAX_PROBLEMS_SHOWN)
    .map((p) => `${display}:${p.line}: ${p.column === null ? "" : `column "${p.column}": `}${p.message}`);
  const more = problemCount - lines.length;
  return [
    `${display}: ${rejectedRows} row${rejectedRows === 1 ? "" : "s"} could not be imported; nothing was written.`,
    ...lines,
    ...(more > 0 ? [`… and ${more} more problem${more === 1 ? "" : "s"}`] : []),
    `Fix the rows (or the profile), or run again with --skip-bad-rows to import the good rows and write the bad ones to ${basename(display, ".csv")}.rejected.csv.`,
  ].join("\n");
}

interface ReadCallbacks {
  onRecords(records: FactRecord[]): void;
  onRejected(rows: import("./records.js").RejectedRow[]): void;
  onHeader(headers: string[]): void;
  onProgress(bytesRead: number, lines: number): void;
  stopWritingOnProblem: boolean;
}

interface ReadOutcome {
  rows: number;
  rejectedCount: number;
  problems: RowProblem[];
  problemCount: number;
}

/** A reader's old-generation heap, in MiB (see readInWorkers). */
const READER_HEAP_MB = 32;

/**
 * Runs the reader workers, feeding their batches to the callbacks as they come and acknowledging
 * each to the worker that sent it. Batches of two readers interleave; nothing depends on their order
 * but the numbering of an order's lines, and an order's rows stay within one reader.
 */
function readInWorkers(tasks: ReaderTask[], callbacks: ReadCallbacks): Promise<ReadOutcome> {
  const outcome: ReadOutcome = { rows: 0, rejectedCount: 0, problems: [], problemCount: 0 };
  const workers = tasks.map(
    (task) =>
      // A reader's live data is one read chunk's records and one batch: small heap limits make V8
      // collect early instead of growing. V8's default young generation alone added 40 MiB to a
      // 1M-line import's peak RSS (two readers) for no measurable speed; with 64 KiB reads, 8 MiB
      // is as fast as 16. An old generation of 24 MiB made V8 collect it so often that the import
      // took 1-7 CPU-seconds more; 32 does not (BENCHMARKS.md).
      new Worker(new URL("./read/worker.js", import.meta.url), {
        workerData: task,
        resourceLimits: { maxOldGenerationSizeMb: READER_HEAP_MB, maxYoungGenerationSizeMb: 8 },
      }),
  );
  const bytesRead = workers.map(() => 0);
  const linesRead = workers.map(() => 0);
  /** Per reader, where an order it holds that spans many megabytes starts (see readerFailure). */
  const largeOrderLine: (number | undefined)[] = workers.map(() => undefined);
  let running = workers.length;
  return new Promise<ReadOutcome>((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown) => {
      if (settled) return;
      settled = true;
      for (const worker of workers) void worker.terminate();
      if (error) reject(error);
      else {
        outcome.problems.sort((a, b) => a.line - b.line);
        resolve(outcome);
      }
    };
    workers.forEach((worker, index) => {
      worker.on("message", (message: ReaderMessage) => {
        if (settled) return;
        try {
          switch (message.type) {
            case "large-order":
              largeOrderLine[index] = message.line;
              break;
            case "header":
              callbacks.onHeader(message.headers);
              break;
            case "batch":
              outcome.rejectedCount += message.rejected.length;
              outcome.problemCount += message.rejected.reduce(
                (n, r) => n + Math.max(1, r.reason.split("; ").length),
                0,
              );
              if (outcome.problems.length < MAX_PROBLEMS_SHOWN * workers.length)
                outcome.problems.push(...message.problems);
              // Once a row is bad and bad rows aren't skipped, the file will be rolled back: just keep reading to count.
              if (!(callbacks.stopWritingOnProblem && outcome.rejectedCount > 0))
                callbacks.onRecords(message.records);
              callbacks.onRejected(message.rejected);
              bytesRead[index] = message.bytesRead;
              linesRead[index] = message.linesRead;
              callbacks.onProgress(
                bytesRead.reduce((a, b) => a + b, 0),
                linesRead.reduce((a, b) => a + b, 0),
              );
              worker.postMessage({ type: "ack" });
              break;
            case "done":
              outcome.rows += message.rows;
              running -= 1;
              if (running === 0) finish(null);
              break;
            case "fatal":
              finish(
                message.exitCode === ExitCode.bug
                  ? Object.assign(new Error(message.message), { stack: message.stack })
                  : new AppError(message.message, message.exitCode as AppError["exitCode"]),
              );
              break;
          }
        } catch (error) {
          finish(error);
        }
      });
      worker.on("error", (error) =>
        finish(readerFailure(error, tasks[index]!.displayName, largeOrderLine[index] ?? null)),
      );
      worker.on("exit", (code) => finish(new Error(`a reader thread stopped unexpectedly (exit ${code})`)));
    });
  });
}

/**
 * A reader that outgrows its heap while holding an order that spans many megabytes of the file was
 * given rows no shop export has (records are capped at 4 MiB): say so. Without such an order it is
 * a bug in the reader, and stays one.
 */
function readerFailure(error: Error, displayName: string, largeOrderLine: number | null): Error {
  if ((error as { code?: string }).code !== "ERR_WORKER_OUT_OF_MEMORY" || largeOrderLine === null)
    return error;
  return new DataError(
    `${displayName}:${largeOrderLine}: the order that starts here holds more text than the reader's ` +
      `${READER_HEAP_MB} MiB take (tens of megabytes), far more than a shop export's. Check its long fields ` +
      "(a quote out of place?), or split it.",
  );
}

/** Below this size one reader keeps up with the writer; above it, two share the file. */
const SPLIT_FILES_FROM_BYTES = 32 * 1024 * 1024;

/**
 * Where the file's records are read: whole, or in two halves split at a record boundary. A byte
 * position is outside quotes when the quotes before it are even in number (an escaped quote is two),
 * which holds for UTF-8 and single-byte code pages, where neither '"' nor LF occurs inside a character.
 */
function planSegments(
  scan: FileScan,
  encoding: string,
  header: { cells: string[]; line: number },
): Segment[] {
  const whole: Segment = { start: scan.bomLength, end: null, firstLine: 1, headers: null, boundary: "none" };
  if (scan.bytes < SPLIT_FILES_FROM_BYTES || !/^(utf-?8|windows-|iso-?8859|koi8|cp\d|latin)/i.test(encoding))
    return [whole];
  const split = findRecordBoundary(scan.path, Math.floor(scan.bytes / 2));
  if (split === null) return [whole];
  return [
    { ...whole, end: split.offset, boundary: "extend" },
    {
      start: split.offset,
      end: null,
      firstLine: split.line,
      headers: header.cells.map((h) => h.replace(/^\uFEFF/, "").trim()),
      boundary: "skip",
    },
  ];
}

/** The first record start at or after `from`, with its line number; null if the file has no LF line ends there. */
function findRecordBoundary(path: string, from: number): { offset: number; line: number } | null {
  const QUOTE = 0x22;
  const LF = 0x0a;
  const fd = openSync(path, "r");
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let quotes = 0;
    let lines = 0;
    let position = 0;
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, position);
      if (read === 0) return null;
      const bytes = chunk.subarray(0, read);
      // Before `from` only the counts matter; from there on, the first LF outside quotes ends the search.
      const countUntil = Math.max(0, Math.min(read, from - position));
      for (let i = bytes.indexOf(QUOTE); i !== -1 && i < countUntil; i = bytes.indexOf(QUOTE, i + 1))
        quotes += 1;
      for (let i = bytes.indexOf(LF); i !== -1 && i < countUntil; i = bytes.indexOf(LF, i + 1)) lines += 1;
      for (let i = countUntil; i < read; i++) {
        const byte = bytes[i];
        if (byte === QUOTE) quotes += 1;
        else if (byte === LF) {
          lines += 1;
          if (quotes % 2 === 0) return { offset: position + i + 1, line: lines + 1 };
        }
      }
      position += read;
    }
  } finally {
    closeSync(fd);
  }
}
