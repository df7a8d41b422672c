/** Win-back call tasks closed by proof from the call log, on the module itself. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config/schema.js";
import { UsageError } from "../../src/errors.js";
import { currentSlot, nextSlot } from "../../src/plan/winback/cadence.js";
import {
  closeTask,
  closeTasksWithCalls,
  listOpenTasks,
  listOpenTasksJson,
  phoneKey,
  planTasks,
} from "../../src/plan/winback/tasks.js";
import { dayNumber } from "../../src/plan/days.js";
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

describe("planning win-back call tasks", () => {
  const config = defaultConfig("/"); // warm every 14 days, cold every 30, lost: no calls
  beforeEach(() => {
    db.prepare("DELETE FROM tasks").run();
    db.prepare("UPDATE customers SET name = 'Ann Lee', external_id = 'C1', email = 'ann@example.com'").run();
    db.prepare(
      `INSERT INTO customers (id, identity_key, info_as_of, created_at, updated_at) VALUES (2, 'id:C2', 'x', 'x', 'x')`,
    ).run();
    db.prepare(
      `INSERT INTO orders (id, source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
       VALUES (1, 'shop', '1', 1, '2025-12-01T10:00:00Z', 'completed', 'EUR', 'x', 'x')`,
    ).run();
    db.prepare(
      `INSERT INTO order_lines (order_id, line_key, sku, product_name, quantity) VALUES
         (1, '1', 'COF', 'Coffee', 2), (1, '2', 'FLT', NULL, 1.5), (1, '3', 'RET', 'Returned', 0)`,
    ).run();
    for (const id of [1, 2])
      db.prepare(
        `INSERT INTO customer_lifecycle (customer_id, status, since, model, orders, first_order_on, last_order_on,
           last_order_id, typical_gap_days, digest)
         VALUES (?, 'warm', '2026-02-20', 'rhythm', 3, '2025-06-01', '2025-12-01', 1, 30, 0)`,
      ).run(id);
  });

  it("makes one task per warm customer with a phone for the current slot, once", () => {
    expect(planTasks(db, config, "2026-03-02T09:00:00Z")).toEqual({
      created: 1,
      closed_by_calls: 0,
      closed_won_back: 0,
      expired: 0,
      open: 1,
    });
    expect(planTasks(db, config, "2026-03-02T10:00:00Z")).toMatchObject({ created: 0, open: 1 });
    expect(
      db.prepare("SELECT customer_id, due_on, lifecycle_status, contact_number, state FROM tasks").all(),
    ).toEqual([
      { customer_id: 1, due_on: "2026-02-20", lifecycle_status: "warm", contact_number: 1, state: "open" },
    ]);
  });

  it("lists the open tasks with what a caller needs", () => {
    planTasks(db, config, "2026-03-02T09:00:00Z");
    call("01701234567", "2026-02-21T10:00:00Z", 5); // too short to close it, but a call so far
    const rows = listOpenTasks(db, config, "2026-03-02T09:00:00Z");
    expect(rows).toEqual([
      {
        task_id: 1,
        due_on: "2026-02-20",
        status: "warm",
        contact_number: 1,
        customer_id: "C1",
        email: "ann@example.com",
        comeback_id: 1,
        name: "Ann Lee",
        phone: "491701234567",
        orders: 3,
        last_order_on: "2025-12-01",
        last_order_items: "2 × Coffee; 1.5 × FLT",
        previous_calls: 1,
        last_call_at: "2026-02-21T10:00:00Z",
        created_at: "2026-03-02T09:00:00Z",
      },
    ]);
    expect(JSON.parse(listOpenTasksJson(db, config, "2026-03-02T09:00:00Z").toString())).toEqual(rows);
    expect(listOpenTasks(db, config, "2026-02-19T09:00:00Z")).toEqual([]);
  });

  it("moves on to the next slot when the last passed, expiring the old task", () => {
    planTasks(db, config, "2026-03-02T09:00:00Z");
    expect(planTasks(db, config, "2026-03-06T09:00:00Z")).toMatchObject({ created: 1, expired: 1, open: 1 });
    expect(db.prepare("SELECT due_on, state, close_reason FROM tasks ORDER BY id").raw().all()).toEqual([
      ["2026-02-20", "expired", "superseded by the contact due 2026-03-06"],
      ["2026-03-06", "open", null],
    ]);
  });

  it("expires the task of a customer no longer lapsed, and closes one won back by an order", () => {
    planTasks(db, config, "2026-03-02T09:00:00Z");
    db.prepare("UPDATE customer_lifecycle SET status = 'active'").run();
    expect(planTasks(db, config, "2026-03-03T09:00:00Z")).toMatchObject({ expired: 1, open: 0 });
    expect(db.prepare("SELECT close_reason FROM tasks").pluck().get()).toBe("no longer due a win-back call");
    db.prepare("UPDATE customer_lifecycle SET status = 'cold', since = '2026-03-03'").run();
    planTasks(db, config, "2026-03-03T09:00:00Z");
    db.prepare(
      `INSERT INTO orders (id, source, external_id, customer_id, placed_at, status_class, currency, created_at, updated_at)
       VALUES (2, 'shop', '2', 1, '2026-03-04T10:00:00Z', 'cancelled', 'EUR', 'x', 'x'),
              (3, 'shop', '3', 1, '2026-03-05T10:00:00Z', 'completed', 'EUR', 'x', 'x'),
              (4, 'shop', '4', 1, '2026-03-09T10:00:00Z', 'completed', 'EUR', 'x', 'x')`,
    ).run();
    expect(planTasks(db, config, "2026-03-06T09:00:00Z")).toMatchObject({ closed_won_back: 1, open: 0 });
    expect(
      db.prepare("SELECT state, closed_by, close_reason FROM tasks WHERE state = 'won_back'").get(),
    ).toEqual({
      state: "won_back",
      closed_by: "order",
      close_reason: "ordered again on 2026-03-05T10:00:00Z",
    });
  });

  it("makes no task where the status does not call", () => {
    db.prepare("UPDATE customer_lifecycle SET status = 'lost'").run();
    expect(planTasks(db, config, "2026-03-02T09:00:00Z")).toMatchObject({ created: 0, open: 0 });
  });
});

describe("closing a task by hand", () => {
  it("needs a reason and an open task, and records who and why", () => {
    const now = "2026-03-04T09:00:00Z";
    expect(() => closeTask(db, 1, "  ", "eva", now)).toThrow(
      new UsageError("--reason is empty: say why the task is closed without a call"),
    );
    expect(() => closeTask(db, 99, "moved away", "eva", now)).toThrow(
      "there is no task 99: see comeback tasks for the open ones",
    );
    expect(closeTask(db, 1, " moved away ", "eva", now)).toEqual({
      id: 1,
      state: "closed",
      closed_by: "eva",
      close_reason: "moved away",
      closed_at: now,
    });
    expect(task()).toMatchObject({
      state: "closed",
      closed_by: "eva",
      close_reason: "moved away",
      closed_at: now,
    });
    expect(() => closeTask(db, 1, "again", "eva", now)).toThrow("task 1 is already closed, not open");
  });
});

describe("the win-back cadence", () => {
  const winback = defaultConfig("/").winback;
  const d = dayNumber;
  it("puts slot 1 on the day the status began, then one every every_days, up to max_contacts", () => {
    expect(currentSlot("warm", d("2026-03-01"), d("2026-02-28"), winback)).toBeNull();
    expect(currentSlot("warm", d("2026-03-01"), d("2026-03-01"), winback)).toEqual({
      n: 1,
      dueDay: d("2026-03-01"),
    });
    expect(currentSlot("warm", d("2026-03-01"), d("2026-03-14"), winback)).toEqual({
      n: 1,
      dueDay: d("2026-03-01"),
    });
    expect(currentSlot("warm", d("2026-03-01"), d("2026-03-15"), winback)).toEqual({
      n: 2,
      dueDay: d("2026-03-15"),
    });
    expect(currentSlot("active", d("2026-03-01"), d("2026-03-15"), winback)).toBeNull();
    // lost: every 60 days, at most 3 contacts
    expect(currentSlot("lost", d("2026-01-01"), d("2026-05-01"), winback)).toEqual({
      n: 3,
      dueDay: d("2026-05-01"),
    });
    expect(currentSlot("lost", d("2026-01-01"), d("2026-06-30"), winback)).toBeNull();
    expect(nextSlot({ n: 2, dueDay: d("2026-03-02") }, "lost", d("2026-01-01"), winback)).toEqual({
      n: 3,
      dueDay: d("2026-05-01"),
    });
    expect(nextSlot({ n: 3, dueDay: d("2026-05-01") }, "lost", d("2026-01-01"), winback)).toBeNull();
    expect(nextSlot({ n: 1, dueDay: 0 }, "new", 0, winback)).toBeNull();
  });
});
