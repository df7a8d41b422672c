/** What `weekly` and `send` share: flags, the clock, the options of a send, signals, the report's text. */
import { InvalidArgumentError } from "commander";
import type { LoadedConfig } from "../config/load.js";
import type { DeliverySetup } from "../deliver/setup.js";
import type { SendOptions, SendReport } from "../deliver/send.js";
import { AppError, ExitCode, UnavailableError } from "../errors.js";
import type { Logger } from "../log.js";
import { nowIso } from "../time.js";
import { plural, Progress } from "./output.js";

export function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

/** Under --now the clock stands still; otherwise it runs, so a long batch sees the window close. */
export function clockFor(now: string, fixed: boolean): () => string {
  return fixed ? () => now : nowIso;
}

/** SIGINT/SIGTERM ask the run to stop after the message in flight; a second one ends it at once. */
export function watchSignals(): { stopped: () => string | null; dispose: () => void } {
  let signal: string | null = null;
  const handler = (name: NodeJS.Signals) => {
    if (signal !== null) process.exit(name === "SIGINT" ? 130 : 143);
    signal = name;
    process.stderr.write(`comeback: ${name}: stopping after the message in flight (again to stop now)\n`);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    stopped: () => signal,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

export function sendOptions(
  config: LoadedConfig,
  setup: DeliverySetup,
  log: Logger,
  flags: {
    now: () => string;
    limit?: number;
    retryUnknown?: boolean;
    breaker?: boolean;
    signals: { stopped: () => string | null };
  },
): SendOptions {
  const progress = new Progress();
  return {
    now: flags.now,
    limit: flags.limit,
    retryUnknown: flags.retryUnknown,
    breaker: flags.breaker,
    maxAttempts: config.delivery.max_attempts,
    retryMinutes: config.delivery.retry_minutes,
    rules: setup.rules,
    renderer: setup.renderer,
    settings: setup.settings,
    transport: setup.transport,
    log,
    shouldStop: () => flags.signals.stopped() !== null,
    onProgress: (done, total) => {
      progress.update(`sending: ${done} of ${total}`);
      if (done >= total) progress.done();
    },
  };
}

const reasons = (counts: Record<string, number>) => {
  const entries = Object.entries(counts);
  return entries.length ? ` (${entries.map(([reason, n]) => `${reason} ${n}`).join(", ")})` : "";
};

export function sendSummary(
  report: Pick<
    SendReport,
    | "sent"
    | "deferred"
    | "deferred_reasons"
    | "skipped"
    | "skipped_reasons"
    | "retry_later"
    | "failed"
    | "put_back"
    | "faults"
  >,
): string {
  const { recipient, message, server } = report.faults;
  const faults =
    recipient + message + server > 0
      ? `; refused: recipient ${recipient}, message ${message}, server ${server}`
      : "";
  return (
    `sent ${report.sent}, deferred ${report.deferred}${reasons(report.deferred_reasons)}, ` +
    `skipped ${report.skipped}${reasons(report.skipped_reasons)}, retry later ${report.retry_later}, failed ${report.failed}` +
    (report.put_back ? `, put back ${report.put_back}` : "") +
    faults
  );
}

export function sendNotes(report: SendReport): string[] {
  const notes: string[] = [];
  for (const failure of report.failures) notes.push(`failed: ${failure.key}: ${failure.error}`);
  if (report.suppressed)
    notes.push(`${plural(report.suppressed, "address", "addresses")} suppressed: the server rejected them`);
  if (report.unknown) {
    notes.push(
      `${plural(report.unknown, "message")} in state unknown (left in "sending" by a run that was killed, or whose reply never came): ` +
        `comeback status lists them; comeback send --retry-unknown sends them again with the same Message-ID`,
    );
  }
  if (report.server_fault) {
    notes.push(
      `${plural(report.put_back, "message")} put back without using an attempt; nobody suppressed for it`,
    );
  }
  if (report.stopped) notes.push(`stopped early: ${report.stopped}`);
  return notes;
}

/** After the report is printed: the exit code for how the sending ended. */
export function throwIfInterrupted(report: SendReport): void {
  const fault = report.server_fault;
  if (fault) {
    throw new UnavailableError(
      `the mail server refused, not the recipients: ${fault.cause} ("${fault.answer}"); ${fault.fix}. ` +
        `Nothing was suppressed and no attempt was used: run comeback send once it is fixed`,
    );
  }
  if (report.unavailable) {
    throw new UnavailableError(`${report.stopped}; the rest stays queued: run comeback send when it is back`);
  }
  if (report.stopped) throw new AppError(`${report.stopped}; run again to continue`, ExitCode.tempFail);
}
