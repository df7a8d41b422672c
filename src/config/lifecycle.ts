/**
 * The `lifecycle` and `winback` config sections: how customers are sorted by how far they have
 * drifted, and how often a manager calls and an email goes out to win them back.
 */
import * as z from "zod";
import { namePattern } from "./replenishment.js";

/** A section or object where an empty YAML value means "the default". */
function orDefault<T extends z.ZodType>(schema: T, fallback: unknown) {
  return z.preprocess((value) => (value === null || value === undefined ? fallback : value), schema);
}

const multiple = z
  .number()
  .positive({ error: "expected a number greater than 0 (a multiple of the typical gap)" });
const days = z
  .number()
  .int({ error: "expected a whole number of days" })
  .min(0, { error: "expected 0 or more days" });
const probability = z
  .number()
  .gt(0, { error: "expected a probability between 0 and 1" })
  .lt(1, { error: "expected a probability between 0 and 1" });

export const LIFECYCLE_MODELS = ["rhythm", "bgnbd"] as const;
export type LifecycleModel = (typeof LIFECYCLE_MODELS)[number];

export const lifecycleSchema = z
  .strictObject({
    model: z.enum(LIFECYCLE_MODELS).default("rhythm"),
    warm_after: multiple.default(1.5),
    cold_after: multiple.default(2.5),
    lost_after: multiple.default(4),
    min_days: orDefault(
      z.strictObject({ warm: days.default(30), cold: days.default(60), lost: days.default(120) }),
      {},
    ),
    warm_below: probability.default(0.7),
    cold_below: probability.default(0.4),
    lost_below: probability.default(0.15),
    // A one-order customer is new until this share of the shop's second orders has happened (see
    // src/plan/lifecycle/second-order.ts).
    new_until_quantile: probability.default(0.9),
  })
  .superRefine((c, ctx) => {
    const order = (
      keys: [string, number][],
      increasing: boolean,
      path: (key: string) => (string | number)[],
    ) => {
      for (let i = 1; i < keys.length; i++) {
        const [prevKey, prev] = keys[i - 1]!;
        const [key, value] = keys[i]!;
        if (increasing ? value < prev : value > prev) {
          ctx.addIssue({
            code: "custom",
            path: path(key),
            message: `must be ${increasing ? "at least" : "at most"} ${prevKey} (${prev}), got ${value}`,
          });
        }
      }
    };
    order(
      [
        ["warm_after", c.warm_after],
        ["cold_after", c.cold_after],
        ["lost_after", c.lost_after],
      ],
      true,
      (key) => [key],
    );
    order(
      [
        ["min_days.warm", c.min_days.warm],
        ["min_days.cold", c.min_days.cold],
        ["min_days.lost", c.min_days.lost],
      ],
      true,
      (key) => key.split("."),
    );
    order(
      [
        ["warm_below", c.warm_below],
        ["cold_below", c.cold_below],
        ["lost_below", c.lost_below],
      ],
      false,
      (key) => [key],
    );
  });

export type LifecycleConfig = z.output<typeof lifecycleSchema>;

export const WINBACK_STATUSES = ["warm", "cold", "lost"] as const;
export type WinbackStatus = (typeof WINBACK_STATUSES)[number];

function cadenceSchema(defaults: {
  every_days: number;
  call: boolean;
  email: string;
  max_contacts: number | null;
}) {
  return orDefault(
    z.strictObject({
      every_days: z
        .number()
        .int({ error: "expected a whole number of days" })
        .positive({ error: "expected 1 or more days" })
        .default(defaults.every_days),
      call: z.boolean().default(defaults.call),
      // false or null: no win-back email for this status
      email: z
        .union([
          z
            .string()
            .regex(/^[A-Za-z0-9_-]+$/, { error: "expected a template name (letters, digits, - and _)" }),
          z.literal(false),
          z.null(),
        ])
        .transform((v) => (v === false ? null : v))
        .default(defaults.email),
      max_contacts: z
        .number()
        .int({ error: "expected a whole number" })
        .positive({ error: "expected 1 or more" })
        .nullable()
        .default(defaults.max_contacts),
    }),
    {},
  );
}

/**
 * A weekly ceiling: a number of customers, or a share ("3%") of the customers with a purchase and an
 * email address (so one default fits a shop of 300 and one of 30,000).
 */
export type WeeklyCeiling = { count: number } | { percent: number };
const weeklyCeiling = z
  .union([
    z.number().int({ error: 'expected a whole number or a percentage like "3%"' }).min(0),
    z
      .string()
      .regex(/^\s*\d+(\.\d+)?\s*%\s*$/, { error: 'expected a whole number or a percentage like "3%"' }),
  ])
  .transform((v): WeeklyCeiling => (typeof v === "number" ? { count: v } : { percent: parseFloat(v) }));

/** A percentage ceiling is never below this many a week: in a shop of 60 customers, 4 % would be 3. */
export const MIN_PERCENT_CEILING = 5;

/** The ceiling for a shop with `base` customers (with a purchase and an email address). */
export function ceilingFor(ceiling: WeeklyCeiling, base: number): number {
  return "count" in ceiling
    ? ceiling.count
    : Math.max(MIN_PERCENT_CEILING, Math.ceil((ceiling.percent / 100) * base));
}

/**
 * Lines a win-back email never offers however often they were bought: tips, shipping and postage,
 * gift cards, fees and manual adjustments (names as Shopify, the UK retailer and German and Russian
 * shops write them).
 */
export const NOT_OFFERED = [
  "(?i)^\\s*tips?\\b",
  "(?i)\\b(shipping|postage|carriage|delivery charge|versand|porto)",
  "(?i)gift ?card|gutschein|geschenkkarte|подарочн",
  "(?i)\\b(fee|fees|bank charges|commission|discount|rabatt|trinkgeld)\\b",
  "(?i)^\\s*manual\\s*$",
  "(?i)доставк|чаев|скидк",
];

export const winbackSchema = z.strictObject({
  warm: cadenceSchema({ every_days: 14, call: true, email: "winback-warm", max_contacts: null }),
  cold: cadenceSchema({ every_days: 30, call: true, email: "winback-cold", max_contacts: null }),
  lost: cadenceSchema({ every_days: 60, call: false, email: "winback-lost", max_contacts: 3 }),
  min_call_seconds: z
    .number()
    .int({ error: "expected whole seconds" })
    .min(0, { error: "expected 0 or more" })
    .default(20),
  customers_per_week: weeklyCeiling.prefault("4%"),
  not_offered: z.array(namePattern).default(NOT_OFFERED),
});

export type WinbackConfig = z.output<typeof winbackSchema>;
export type CadenceConfig = WinbackConfig[WinbackStatus];
