/**
 * The `replenishment` section: how long what a shop sells lasts, and how to remind. Kept in its own
 * file so the schema of each planner can grow without touching the others.
 */
import * as z from "zod";

export const DEFAULT_LEAD_DAYS = 7;
export const DEFAULT_MAX_REMINDERS = 3;
/**
 * A group no rule times goes in a cart once P(bought within 28 days) reaches this. On the UK retailer
 * (BENCHMARKS.md) F1 is flat at 0.30 from about 0.2 to 0.24 while the volume falls from 2,700 to 1,900
 * items a week: the upper end of the flat stretch, fewer emails for the same balance of hits and
 * misses. `comeback backtest --thresholds` shows a shop its own.
 */
export const DEFAULT_MIN_PROBABILITY = 0.24;
/** …and not again within this many days of its last offer: the 28 days a reminder is judged on. */
export const DEFAULT_COOLDOWN_DAYS = 28;

/** `(?i)` at the start of a name pattern asks for case-insensitive matching, as in most regex dialects. */
const CASE_INSENSITIVE_PREFIX = "(?i)";

/** Compiles a product-name pattern as the config writes it. Throws SyntaxError when it isn't a regex. */
export function compileNamePattern(pattern: string): RegExp {
  const insensitive = pattern.startsWith(CASE_INSENSITIVE_PREFIX);
  const source = insensitive ? pattern.slice(CASE_INSENSITIVE_PREFIX.length) : pattern;
  return new RegExp(source, insensitive ? "iu" : "u");
}

const text = z
  .preprocess((value) => (typeof value === "number" ? String(value) : value), z.string())
  .refine((s) => s.trim() !== "", { error: "expected a non-empty string" });

export const namePattern = z.string().superRefine((pattern, ctx) => {
  try {
    compileNamePattern(pattern);
  } catch (error) {
    ctx.addIssue({
      code: "custom",
      message: 'expected a regular expression such as "(?i)filter"',
      params: { detail: error instanceof Error ? error.message : String(error) },
    });
  }
});

/** One way of naming products; exactly one key, so a rule can't silently mean two things. */
export const ruleMatchSchema = z
  .strictObject({
    sku: text.optional(),
    name: namePattern.optional(),
    group: text.optional(),
  })
  .superRefine((match, ctx) => {
    const keys = (["sku", "name", "group"] as const).filter((key) => match[key] !== undefined);
    if (keys.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: `expected exactly one of sku (a sku or a glob like "LNS-*"), name (a regex) or group, got ${
          keys.length === 0 ? "none" : keys.join(" and ")
        }`,
      });
    }
  });

const positiveDays = z
  .number({ error: "expected a positive number of days" })
  .positive({ error: "expected a positive number of days" });
const wholeDays = z
  .number({ error: "expected a whole number of days, 0 or more" })
  .int({ error: "expected a whole number of days, 0 or more" })
  .min(0, { error: "expected a whole number of days, 0 or more" });

export const supplyRuleSchema = z.strictObject({
  match: ruleMatchSchema,
  days_per_unit: positiveDays,
  lead_days: wholeDays.optional(),
  cycle_days: positiveDays.optional(),
});

export const replenishmentSchema = z.strictObject({
  lead_days: wholeDays.default(DEFAULT_LEAD_DAYS),
  max_reminders: z
    .number({ error: "expected a whole number, 1 or more" })
    .int({ error: "expected a whole number, 1 or more" })
    .min(1, { error: "expected a whole number, 1 or more" })
    .default(DEFAULT_MAX_REMINDERS),
  learn_from_history: z.boolean().default(true),
  min_probability: z
    .number({ error: "expected a probability between 0 and 1, such as 0.15" })
    .gt(0, { error: "expected a probability between 0 and 1, such as 0.15" })
    .max(1, { error: "expected a probability between 0 and 1, such as 0.15" })
    .default(DEFAULT_MIN_PROBABILITY),
  cooldown_days: z
    .number({ error: "expected a whole number of days, 1 or more" })
    .int({ error: "expected a whole number of days, 1 or more" })
    .min(1, { error: "expected a whole number of days, 1 or more" })
    .default(DEFAULT_COOLDOWN_DAYS),
  rules: z.preprocess((value) => (value === null ? [] : value), z.array(supplyRuleSchema)).default([]),
});

export type ReplenishmentConfig = z.output<typeof replenishmentSchema>;
export type SupplyRuleConfig = ReplenishmentConfig["rules"][number];
