/**
 * A planner thread: plans its share of the customer batches on its own read-only connection and
 * posts each batch's changes to the thread that writes them. It reads inside one transaction, so
 * all its batches see the same facts; the writer holds the write lock the whole time, so those are
 * the facts the writer's transaction sees too.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openStore } from "../../store/open.js";
import { planBatches, type PlanJob } from "./batch.js";
import type { CustomerRange } from "./facts.js";

export interface PlannerTask {
  dbPath: string;
  job: PlanJob;
  ranges: CustomerRange[];
  indexes: number[];
  /** Batches posted and not yet written, per thread: a planner waits while its count is at the limit. */
  unwritten: Int32Array;
  thread: number;
}

/**
 * Batches a planner may have posted and not yet seen written. Without a limit the planners outrun
 * the writer on a first plan (every row an insert), and their results pile up in its memory. With
 * one, a planner still plans its next batch while its last is written: a limit of 2 was no faster
 * and took a first plan of the benchmark shop from 295 to 310–320 MB.
 */
export const UNWRITTEN_LIMIT = 1;

const port = parentPort;
if (port === null) throw new Error("plan-worker runs as a worker thread");
const task = workerData as PlannerTask;
const db = openStore(task.dbPath, { readonly: true });
try {
  db.exec("BEGIN");
  const { unwritten, thread } = task;
  planBatches(db, task.job, task.ranges, task.indexes, (result) => {
    for (let n = Atomics.load(unwritten, thread); n >= UNWRITTEN_LIMIT; n = Atomics.load(unwritten, thread))
      Atomics.wait(unwritten, thread, n);
    Atomics.add(unwritten, thread, 1);
    port.postMessage(result);
  });
  db.exec("COMMIT");
} finally {
  db.close();
}
