/** Win-back call tasks closed by proof from the call log, on the module itself. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeTasksWithCalls, phoneKey } from "../../src/plan/winback/tasks.js";
import { openStore, type Db } from "../../src/store/open.js";

let db: Db;
beforeEach(() => {
  db = openStore(join(mkdtempSync(join(tmpdir(), "comeback-tasks-")), "t.db"));
  db.prepare(
    `INSERT INTO customers (id, identity_key, phone, info_as_of, created_at, updated_at)
     VALUES (1, 'id:C1', '491701234567', 'x', 'x', 'x')`,
  ).run();
  db.prepare(
    `INSERT INTO tasks (customer_id, kind, due_on, lifecycle_status, contact_number, state, created_at)
     VALUES (1, 'winback_call', '2026-03-02', 'warm', 1, 'open', '2026-03-02T08:00:00Z')`,
  ).run();
});
afterEach(() => db.close());

function call(phone: string, startedAt: string, seconds: number, agent: string | null = "Eva"): void {
  db.prepare(
    "INSERT INTO calls (phone, phone_key, started_at, duration_seconds, agent) VALUES (?, ?, ?, ?, ?)",
  ).run(phone, phoneKey(phone), startedAt, seconds, agent);
}

const task = () =>
  db.prepare("SELECT state, closed_at, closed_by, close_reason, call_id FROM tasks").get() as Record<
    string,
    unknown
  >;

describe("a win-back call task", () => {
  it("is closed by a call of exactly min_call_seconds", () => {
    call("01701234567", "2026-03-03T10:00:00Z", 60);
    expect(closeTasksWithCalls(db, 60, "2026-03-04T00:00:00Z")).toBe(1);
    expect(task()).toEqual({
      state: "done",
      closed_at: "2026-03-03T10:00:00Z",
      closed_by: "Eva",
      close_reason: "call of 60 s",
      call_id: 1,
    });
  });

  it("stays open after a call one second shorter, a call before the task, or one after now", () => {
    call("01701234567", "2026-03-03T10:00:00Z", 59);
    call("01701234567", "2026-03-02T07:00:00Z", 600); // before the task was made
    call("01701234567", "2026-03-05T10:00:00Z", 600); // after now
    call("01709999999", "2026-03-03T11:00:00Z", 600); // another number
    expect(closeTasksWithCalls(db, 60, "2026-03-04T00:00:00Z")).toBe(0);
    expect(task()).toMatchObject({ state: "open", call_id: null });
  });

  it("is closed by the earliest proving call, named 'call' when the log names no agent", () => {
    call("+49 170 1234567".replace(/\D/g, ""), "2026-03-03T12:00:00Z", 90, "Max");
    call("01701234567", "2026-03-03T09:00:00Z", 70, null);
    expect(closeTasksWithCalls(db, 60, "2026-03-04T00:00:00Z")).toBe(1);
    expect(task()).toMatchObject({
      closed_at: "2026-03-03T09:00:00Z",
      closed_by: "call",
      close_reason: "call of 70 s",
    });
  });
});
