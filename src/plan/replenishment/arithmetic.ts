/**
 * Due-date arithmetic, in day numbers. One place for the rounding rules:
 * - supply and cycle days are kept to 0.01 day, so 2 × 30 × 1.9 is 114 and not 113.99999999999999;
 * - a due date is the purchase day + the whole days of supply (fractions dropped: a reminder a few
 *   hours early beats one a day late) − the lead days, and never before the purchase day itself;
 * - reminder n (1-based) is due on the first due date + ⌊(n − 1) × cycle⌋.
 */

export function roundDays(days: number): number {
  return Math.round(days * 100) / 100;
}

export function supplyDays(quantity: number, daysPerUnit: number, usageFactor: number): number {
  return roundDays(quantity * daysPerUnit * usageFactor);
}

export function firstDueDay(purchaseDay: number, supply: number, leadDays: number): number {
  return Math.max(purchaseDay, purchaseDay + Math.floor(supply) - leadDays);
}

export function nthDueDay(firstDue: number, cycleDays: number, n: number): number {
  return firstDue + Math.floor((n - 1) * cycleDays);
}

export interface CurrentReminder {
  /** The reminder current on `today`: 1 until the second one is due, and so on. */
  number: number;
  dueDay: number;
  /** True once the last allowed reminder has had a whole cycle without a purchase. */
  expired: boolean;
  /** The day it expires (or expired): a cycle after the last allowed reminder. */
  expiresOn: number;
}

/**
 * Which reminder is current on `today`: the latest one whose due date has come (the first one before
 * that). After `maxReminders` reminders, a further cycle without a purchase ends it as expired; the
 * row then keeps the last reminder's number and date.
 */
export function currentReminder(
  firstDue: number,
  cycleDays: number,
  maxReminders: number,
  today: number,
): CurrentReminder {
  const expiresOn = nthDueDay(firstDue, cycleDays, maxReminders + 1);
  if (today < firstDue) return { number: 1, dueDay: firstDue, expired: false, expiresOn };
  // The estimate can be one off either way because of the flooring in nthDueDay: settle it exactly.
  let n = 1 + Math.floor((today - firstDue) / cycleDays);
  while (n > 1 && nthDueDay(firstDue, cycleDays, n) > today) n--;
  while (nthDueDay(firstDue, cycleDays, n + 1) <= today) n++;
  if (n > maxReminders) {
    return {
      number: maxReminders,
      dueDay: nthDueDay(firstDue, cycleDays, maxReminders),
      expired: true,
      expiresOn,
    };
  }
  return { number: n, dueDay: nthDueDay(firstDue, cycleDays, n), expired: false, expiresOn };
}
