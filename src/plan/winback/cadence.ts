/**
 * The win-back cadence: while a customer is warm, cold or lost, contact slots fall every
 * `every_days` from the day they entered the status (slot 1 on that day), up to `max_contacts`
 * slots when it is set; then they are left be. Pure day arithmetic.
 */
import type { WinbackConfig } from "../../config/lifecycle.js";

export interface Slot {
  /** 1 for the first contact in this status. */
  n: number;
  /** The slot's day number. */
  dueDay: number;
}

export function isWinbackStatus(status: string): status is "warm" | "cold" | "lost" {
  return status === "warm" || status === "cold" || status === "lost";
}

/** The slot in force on `today` (the latest one on or before it), or null when none (not overdue, or contacts used up). */
export function currentSlot(
  status: string,
  sinceDay: number,
  today: number,
  config: WinbackConfig,
): Slot | null {
  if (!isWinbackStatus(status) || today < sinceDay) return null;
  const cadence = config[status];
  const n = Math.floor((today - sinceDay) / cadence.every_days) + 1;
  return slotNumber(n, sinceDay, cadence.every_days, cadence.max_contacts);
}

export function nextSlot(slot: Slot, status: string, sinceDay: number, config: WinbackConfig): Slot | null {
  if (!isWinbackStatus(status)) return null;
  const cadence = config[status];
  return slotNumber(slot.n + 1, sinceDay, cadence.every_days, cadence.max_contacts);
}

function slotNumber(n: number, sinceDay: number, every: number, max: number | null): Slot | null {
  if (max !== null && n > max) return null;
  return { n, dueDay: sinceDay + (n - 1) * every };
}
