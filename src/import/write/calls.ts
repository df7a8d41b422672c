/** Writes call-log rows: a call is one (phone, start time); the same call in a later export is not written again. */
import type { Db } from "../../store/open.js";
import type { CallRecord } from "../records.js";

export class CallWriter {
  private readonly insert;
  readonly counts = { calls_new: 0, calls_known: 0 };

  constructor(db: Db, importId: number) {
    const statement = db.prepare(
      `INSERT INTO calls (phone, phone_key, started_at, duration_seconds, direction, agent, import_id)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (phone, started_at) DO NOTHING`,
    );
    this.insert = (call: CallRecord) =>
      statement.run(
        call.phone,
        call.phone.slice(-9), // the same key as phoneKey() in plan/winback/tasks.ts
        call.startedAt,
        call.durationSeconds,
        call.direction,
        call.agent,
        importId,
      ).changes;
  }

  write(call: CallRecord): void {
    if (this.insert(call) > 0) this.counts.calls_new += 1;
    else this.counts.calls_known += 1;
  }
}
