/**
 * Supply rules: how many days one unit of a product lasts. The first config rule that matches wins;
 * a product no rule matches falls back on the `days_per_unit` a products import gave it.
 */
import { compileNamePattern, type ReplenishmentConfig } from "../../config/replenishment.js";

export interface ProductFacts {
  sku: string | null;
  /** The catalog name, else the name on the order line. */
  name: string | null;
  /** The replenishment group: the product's `group`, else its sku (else its name, for lines without a sku). */
  groupKey: string;
  /** From a products import. */
  daysPerUnit: number | null;
}

export interface SupplyRule {
  daysPerUnit: number;
  /** null: the config's default lead days. */
  leadDays: number | null;
  /** null: the supply days. */
  cycleDays: number | null;
  /** For explanations: `rule 2 (sku "DOG-*")` or `the product's days_per_unit`. */
  source: string;
}

type Matcher = (product: ProductFacts) => boolean;

/** A sku glob: `*` any run of characters, `?` one character; like skus everywhere here, case-insensitive. */
export function skuGlob(pattern: string): RegExp {
  const body = [...pattern]
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "iu");
}

function matcherFor(match: ReplenishmentConfig["rules"][number]["match"]): Matcher {
  if (match.sku !== undefined) {
    const pattern = skuGlob(match.sku.trim());
    return (product) => product.sku !== null && pattern.test(product.sku);
  }
  if (match.name !== undefined) {
    const pattern = compileNamePattern(match.name);
    return (product) => product.name !== null && pattern.test(product.name);
  }
  const group = (match.group as string).trim().toLowerCase();
  return (product) => product.groupKey.toLowerCase() === group;
}

function describeMatch(match: ReplenishmentConfig["rules"][number]["match"]): string {
  if (match.sku !== undefined) return `sku ${JSON.stringify(match.sku)}`;
  if (match.name !== undefined) return `name ${JSON.stringify(match.name)}`;
  return `group ${JSON.stringify(match.group)}`;
}

export class SupplyRules {
  private readonly rules: { matches: Matcher; rule: SupplyRule }[];

  constructor(config: ReplenishmentConfig) {
    this.rules = config.rules.map((rule, index) => ({
      matches: matcherFor(rule.match),
      rule: {
        daysPerUnit: rule.days_per_unit,
        leadDays: rule.lead_days ?? null,
        cycleDays: rule.cycle_days ?? null,
        source: `rule ${index + 1} (${describeMatch(rule.match)})`,
      },
    }));
  }

  /** The rule for a product, or null when nothing says how long it lasts. */
  ruleFor(product: ProductFacts): SupplyRule | null {
    for (const { matches, rule } of this.rules) if (matches(product)) return rule;
    if (product.daysPerUnit !== null && product.daysPerUnit > 0) {
      return {
        daysPerUnit: product.daysPerUnit,
        leadDays: null,
        cycleDays: null,
        source: "the product's days_per_unit",
      };
    }
    return null;
  }
}
