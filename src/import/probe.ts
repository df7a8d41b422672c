/**
 * Reads an orders export as `comeback import` would (encoding, delimiter, profile detection, dates,
 * order grouping) without touching the shop's database: a dry run into a throwaway one. Used by
 * `init --from` to see what the export says of the shop's timezone and currency before any config exists.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../config/schema.js";
import { openStore } from "../store/open.js";
import type { OffsetTally } from "./offsets.js";
import { importFile, type ImportOptions } from "./run.js";

/** The currency orders get when the export names none: ISO 4217's code for "no currency". */
export const NO_CURRENCY = "XXX";

export interface OrdersProbe {
  profile: string;
  orders: number;
  rejected: number;
  tally: OffsetTally;
}

export async function probeOrders(
  path: string,
  onProgress?: ImportOptions["onProgress"],
): Promise<OrdersProbe> {
  const folder = mkdtempSync(join(tmpdir(), "comeback-probe-"));
  const db = openStore(join(folder, "probe.db"));
  try {
    const { report, offsets } = await importFile(
      db,
      {
        // Times without an offset are not counted as offsets, so the zone they are read in doesn't matter.
        timezone: "UTC",
        currency: NO_CURRENCY,
        statuses: defaultConfig(folder).statuses,
        profiles: {},
      },
      path,
      // Bad rows are left out rather than refused: the proposal comes from the good ones.
      { kind: "orders", dryRun: true, skipBadRows: true, force: true, onProgress },
    );
    return { profile: report.profile, orders: offsets!.orders, rejected: report.rejected, tally: offsets! };
  } finally {
    db.close();
    rmSync(folder, { recursive: true, force: true });
  }
}
