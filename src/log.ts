/**
 * Structured logs. `log.file` (config) always gets them, one JSON line per event, whatever the flags.
 * `-v` adds stderr: readable lines on a terminal, the same JSON lines when stderr is a pipe or a file
 * (for jq or a log collector). Without either, logs go nowhere, so cron mail stays quiet. Every line
 * carries the run id. Personal data (emails, phones, names) is never logged at info level or above:
 * every call passes through redact.ts first.
 *
 * The readable lines are formatted here, synchronously, rather than by pino-pretty: its transport runs
 * in a worker thread, which costs every `-v` run a thread start and can lose the last lines when the
 * process exits right after an error.
 */
import { randomUUID } from "node:crypto";
import pino, {
  type DestinationStream,
  type Level,
  type Logger,
  type LoggerOptions as PinoOptions,
  type StreamEntry,
} from "pino";
import { redactLogArguments } from "./redact.js";

export type { Logger };

export interface LoggerOptions {
  /** `log.level` from the config: what goes to the file, and to stderr with -v (info at least). */
  level: string;
  file: string | null;
  verbose: boolean;
  /** Whether stderr is a terminal (readable lines) or not (JSON lines); default: process.stderr.isTTY. */
  terminal?: boolean;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { run: randomUUID().slice(0, 8) };
  const streams: StreamEntry[] = [];
  if (options.file && options.level !== "silent") {
    streams.push({
      level: options.level as Level,
      stream: pino.destination({ dest: options.file, mkdir: true, sync: true }),
    });
  }
  if (options.verbose) {
    // -v asks to see what happens: never less than info, more if the config asks for debug or trace.
    const level = (options.level === "debug" || options.level === "trace" ? options.level : "info") as Level;
    const terminal = options.terminal ?? Boolean(process.stderr.isTTY);
    streams.push({
      level,
      stream: terminal ? readableStderr() : pino.destination({ dest: 2, sync: true }),
    });
  }
  if (streams.length === 0) return pino({ level: "silent", base });
  const hooks: PinoOptions["hooks"] = {
    // Every line at info and above loses its personal data here, whoever logs it (see redact.ts);
    // debug and trace keep it for the admin who asked for them.
    logMethod(args, method, level) {
      const out = level >= pino.levels.values.info! ? redactLogArguments(args) : args;
      method.apply(this, out as Parameters<typeof method>);
    },
  };
  const lowest = streams.reduce(
    (low, entry) => (pino.levels.values[entry.level!]! < pino.levels.values[low]! ? entry.level! : low),
    streams[0]!.level!,
  );
  return pino({ level: lowest, base, hooks }, pino.multistream(streams));
}

function readableStderr(): DestinationStream {
  // "\r\x1b[2K" first: a progress line being drawn (output.ts Progress) is cleared, not run into.
  return { write: (line: string) => void process.stderr.write(`\r\x1b[2K${formatLogLine(line)}`) };
}

/**
 * One pino JSON line as a person reads it: `07:31:02.114 INFO  imported  file=orders.csv rows=412`,
 * an error's stack on the lines after it.
 */
export function formatLogLine(line: string): string {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith("\n") ? line : `${line}\n`;
  }
  const { time, level, msg, run: _run, err, ...fields } = event;
  const clock = typeof time === "number" ? new Date(time).toISOString().slice(11, 23) : "";
  const label = (pino.levels.labels[level as number] ?? String(level)).toUpperCase();
  const extras = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  let text = `${clock} ${label.padEnd(5)} ${typeof msg === "string" ? msg : ""}${extras ? `  ${extras}` : ""}\n`;
  const stack = (err as { stack?: unknown } | undefined)?.stack;
  if (typeof stack === "string") text += `${stack.replace(/^/gm, "    ")}\n`;
  return text;
}
