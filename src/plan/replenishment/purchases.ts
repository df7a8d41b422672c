/**
 * From one customer's order lines of one replenishment group to their purchases: what they bought
 * when, net of returns. Cancelled orders and orders after `now` never get here (the query leaves
 * them out).
 */

/** One order line, reduced to what planning needs. Lines arrive in order time, an order's lines together. */
export interface PlanLine {
  orderId: number;
  /** The order's day number in the shop's timezone. */
  day: number;
  /** The product (index into the plan's product list). */
  pid: number;
  quantity: number;
}

export interface Purchase {
  /** The (latest) order it was bought in. */
  orderId: number;
  day: number;
  /** The product bought (the last one, when an order or day holds several of the group). */
  pid: number;
  /** Net of returns; always > 0. */
  quantity: number;
}

/**
 * Rules, in order of the lines:
 * - one order's lines of the group add up (a return line in the same order nets out);
 * - an order whose net is negative is a return of the latest purchase: it lowers that quantity,
 *   and a purchase returned down to nothing or less is no purchase at all (the one before becomes
 *   the latest again); what is returned beyond it is ignored;
 * - purchases on the same day are one purchase: two orders placed an hour apart are one stock-up,
 *   and a zero-day gap would make nonsense of the learned rhythm.
 */
export function purchasesOf(lines: readonly PlanLine[]): Purchase[] {
  const purchases: Purchase[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i] as PlanLine;
    let net = 0;
    let pid = first.pid;
    let j = i;
    for (; j < lines.length && (lines[j] as PlanLine).orderId === first.orderId; j++) {
      const line = lines[j] as PlanLine;
      net += line.quantity;
      if (line.quantity > 0) pid = line.pid;
    }
    i = j;
    const last = purchases.at(-1);
    if (net > 0) {
      if (last !== undefined && last.day === first.day) {
        last.quantity += net;
        last.orderId = first.orderId;
        last.pid = pid;
      } else {
        purchases.push({ orderId: first.orderId, day: first.day, pid, quantity: net });
      }
    } else if (net < 0 && last !== undefined) {
      last.quantity += net;
      if (last.quantity <= 1e-9) purchases.pop();
    }
  }
  return purchases;
}
