/**
 * The confidence intervals of the lift report (issue 18). Small shops have small groups (a hold-out
 * of 10 % may be a dozen customers a week), where the textbook normal ("Wald") interval of a
 * proportion misbehaves: it can leave [0, 1] and covers far less than 95 % near 0 or 1. So:
 *
 * - a proportion: Wilson's score interval;
 * - a difference of two proportions (repurchase rate emailed minus held out): Newcombe's hybrid
 *   score interval (Newcombe 1998, method 10), built from the two Wilson intervals; it keeps close
 *   to 95 % coverage down to groups of ten;
 * - a difference of means (revenue per customer): Welch's standard error with the normal quantile,
 *   the usual large-sample interval: revenue is skewed, so with few buyers it is only a guide.
 */

/** The normal quantile of a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

export type Interval = [number, number];

/** Wilson's score interval for x successes in n trials; null when n is 0. */
export function wilson(x: number, n: number, z = Z95): Interval | null {
  if (n <= 0) return null;
  const p = x / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Newcombe's hybrid score interval for p1 − p2 (x1 of n1 against x2 of n2); null when a group is empty. */
export function newcombe(x1: number, n1: number, x2: number, n2: number, z = Z95): Interval | null {
  const w1 = wilson(x1, n1, z);
  const w2 = wilson(x2, n2, z);
  if (!w1 || !w2) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const d = p1 - p2;
  const lower = d - Math.sqrt((p1 - w1[0]) ** 2 + (w2[1] - p2) ** 2);
  const upper = d + Math.sqrt((w1[1] - p1) ** 2 + (p2 - w2[0]) ** 2);
  return [lower, upper];
}

export interface Sample {
  n: number;
  mean: number;
  /** The sample variance (n − 1 in the denominator); 0 for n < 2. */
  variance: number;
}

export function sample(values: readonly number[]): Sample {
  const n = values.length;
  const mean = n === 0 ? 0 : values.reduce((a, b) => a + b, 0) / n;
  const variance = n < 2 ? 0 : values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { n, mean, variance };
}

/** Welch's interval for mean1 − mean2; null unless both groups have at least two values. */
export function welch(a: Sample, b: Sample, z = Z95): Interval | null {
  if (a.n < 2 || b.n < 2) return null;
  const d = a.mean - b.mean;
  const se = Math.sqrt(a.variance / a.n + b.variance / b.n);
  return [d - z * se, d + z * se];
}
