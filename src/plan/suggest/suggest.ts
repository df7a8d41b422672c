/**
 * `comeback rules suggest`: replenishment rules proposed from the shop's own order history. Each
 * product (or group of products that are one thing) is measured on the gaps between a customer's
 * consecutive purchases; a rule is proposed where those gaps are regular and there is enough of them,
 * and everything else is reported as left out, with the reason. Nothing is written: the caller
 * renders the report for the admin to review.
 */
import type { Config } from "../../config/load.js";
import type { Db } from "../../store/open.js";
import { dayString, localDayOf } from "../days.js";
import { SupplyRules } from "../replenishment/rules.js";
import { groupPacks, proposeGroups, type Pack, type ProductGroup } from "./grouping.js";
import {
  catalog,
  countedCustomers,
  productRows,
  unitHistories,
  type ProductRow,
  type UnitHistory,
  type UnitSlot,
} from "./history.js";
import { nonProductReason, oneOffReason } from "./one-offs.js";
import {
  chosen,
  daysPerUnitOf,
  MAX_REGULAR_DISPERSION,
  MIN_GAPS,
  MIN_REPEAT_CUSTOMERS,
  MIN_REPURCHASE_SHARE,
  MIN_RHYTHM_CUSTOMERS,
  rawDaysPerUnit,
  roundDays,
  type Basis,
  type GapStats,
} from "./stats.js";

export type Verdict =
  "rule" | "not_a_product" | "one_off" | "occasional" | "too_little_evidence" | "irregular";

export interface ProductRef {
  sku: string | null;
  name: string | null;
}

/** How a rule names what it is about: exactly one key, as the config wants. */
export type RuleMatch = { sku: string } | { group: string } | { name: string };

export interface Candidate {
  /** What a rule would match. */
  match: RuleMatch;
  /** The products measured together: one, or a group's members. */
  products: ProductRef[];
  group: ProductGroup | null;
  buyers: number;
  returningBuyers: number;
  repeatCustomers: number;
  rhythmCustomers: number;
  stats: GapStats | null;
  verdict: Verdict;
  reason: string;
  /** For a rule: the suggested days per unit, on the chosen basis (per piece, kg, … when `packs`). */
  daysPerUnit: number | null;
  /**
   * The members' packs, when they come in different ones (a box of 30 and of 90): the group is
   * measured per piece (kg, litre), and each member gets its own rule, `memberRules`.
   */
  packs: Pack[] | null;
  memberRules: { match: RuleMatch; daysPerUnit: number }[] | null;
  basis: Basis | null;
  /** A rule or days_per_unit that already covers these products, e.g. `rule 1 (sku "LNS-*")`, with its days. */
  coveredBy: { source: string; daysPerUnit: number } | null;
}

export interface SuggestReport {
  now: string;
  today: string;
  customers: number;
  /** Customers who ordered on two days or more: those a rhythm could show in. */
  returningCustomers: number;
  products: number;
  thresholds: {
    min_repeat_customers: number;
    min_gaps: number;
    min_rhythm_customers: number;
    min_repurchase_share: number;
    max_dispersion: number;
  };
  /** Suggested rules first (most evidence first), then covered ones. */
  rules: Candidate[];
  /** Everything else, with the reason. */
  skipped: Candidate[];
}

/** A name-only product (a line without a sku) is matched by its exact name. */
function exactName(name: string): string {
  return `^${escapeRegex(name)}$`;
}

function exactNames(names: readonly string[]): string {
  return names.length === 1 ? exactName(names[0] as string) : `^(?:${names.map(escapeRegex).join("|")})$`;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function suggestRules(db: Db, config: Config, nowIso: string): SuggestReport {
  const products = catalog(db);
  const rows = productRows(db, nowIso, products);
  const supply = new SupplyRules(config.replenishment);
  const skipped: Candidate[] = [];
  const real: ProductRow[] = [];
  for (const row of rows) {
    const reason = nonProductReason(row);
    if (reason === null) real.push(row);
    else skipped.push(bare(row, "not_a_product", reason));
  }

  const taken = new Set<string>();
  for (const row of rows) {
    if (row.sku !== null) taken.add(row.sku);
    if (row.catalogGroup !== null) taken.add(row.catalogGroup);
  }
  for (const [sku, product] of products) {
    taken.add(sku);
    if (product.group_key !== null) taken.add(product.group_key);
  }
  const groups = proposeGroups(
    real.map((row) => ({ key: row.key, sku: row.sku, name: row.name, catalogGroup: row.catalogGroup })),
    taken,
  );

  // Units: every group of two or more, and every product in none.
  const byKey = new Map(real.map((row) => [row.key, row]));
  const units: { products: ProductRow[]; group: ProductGroup | null; packs: Pack[] | null }[] = [];
  const unitOf = new Map<string, UnitSlot>();
  for (const group of groups) {
    const members = group.members.map((key) => byKey.get(key) as ProductRow);
    const packs = groupPacks(members.map((member) => member.name));
    members.forEach((member, i) =>
      unitOf.set(member.key, { unit: units.length, pack: packs?.[i]?.amount ?? 1 }),
    );
    units.push({ products: members, group, packs });
  }
  for (const row of real) {
    if (unitOf.has(row.key)) continue;
    unitOf.set(row.key, { unit: units.length, pack: 1 });
    units.push({ products: [row], group: null, packs: null });
  }
  const histories = unitHistories(db, config.timezone, nowIso, unitOf);

  const rules: Candidate[] = [];
  units.forEach((unit, index) => {
    const history = histories.get(index) ?? {
      buyers: 0,
      returningBuyers: 0,
      repeatCustomers: 0,
      rhythmCustomers: 0,
      stats: null,
    };
    const candidate = judge(unit.products, unit.group, history, unit.packs);
    candidate.coveredBy = coverage(supply, unit.products);
    if (candidate.verdict === "rule") rules.push(candidate);
    else skipped.push(candidate);
  });

  // Most evidence first: the rules the admin is surest of, and the near misses, lead.
  const byEvidence = (a: Candidate, b: Candidate): number =>
    Number(a.coveredBy !== null) - Number(b.coveredBy !== null) ||
    (b.stats?.perPurchase.n ?? 0) - (a.stats?.perPurchase.n ?? 0) ||
    b.buyers - a.buyers ||
    label(a).localeCompare(label(b));
  rules.sort(byEvidence);
  const order: Verdict[] = ["not_a_product", "one_off", "occasional", "irregular", "too_little_evidence"];
  // A one-off or a fee has no gaps to rank by: the most bought lead.
  const byBuyers = new Set<Verdict>(["not_a_product", "one_off"]);
  skipped.sort(
    (a, b) =>
      order.indexOf(a.verdict) - order.indexOf(b.verdict) ||
      (byBuyers.has(a.verdict) ? b.buyers - a.buyers : 0) ||
      byEvidence(a, b),
  );

  const { customers, returning } = countedCustomers(db, config.timezone, nowIso);
  return {
    now: nowIso,
    today: dayString(localDayOf(nowIso, config.timezone)),
    customers,
    returningCustomers: returning,
    products: rows.length,
    thresholds: {
      min_repeat_customers: MIN_REPEAT_CUSTOMERS,
      min_gaps: MIN_GAPS,
      min_rhythm_customers: MIN_RHYTHM_CUSTOMERS,
      min_repurchase_share: MIN_REPURCHASE_SHARE,
      max_dispersion: MAX_REGULAR_DISPERSION,
    },
    rules,
    skipped,
  };
}

/** A short name for sorting and for the text: the group's, else the sku, else the product name. */
export function label(candidate: Candidate): string {
  const match = candidate.match;
  if ("group" in match) return match.group;
  if ("sku" in match) return match.sku;
  return candidate.products[0]?.name ?? "";
}

function matchOf(products: readonly ProductRow[], group: ProductGroup | null): RuleMatch {
  // Lines without a sku can't be given a group (a products import is keyed by sku): a rule names them
  // all by their exact names instead, which sets their days_per_unit, each still reminded on its own.
  if (group !== null && products.every((p) => p.sku === null))
    return { name: exactNames(products.map((p) => p.name ?? "")) };
  if (group !== null) return { group: group.name };
  const product = products[0] as ProductRow;
  // A product alone in a catalog group is reminded by that group: the rule names it the same way.
  if (product.catalogGroup !== null) return { group: product.catalogGroup };
  if (product.sku !== null) return { sku: product.sku };
  return { name: exactName(product.name ?? "") };
}

function bare(row: ProductRow, verdict: Verdict, reason: string): Candidate {
  return {
    match: matchOf([row], null),
    products: [{ sku: row.sku, name: row.name }],
    group: null,
    buyers: row.buyers,
    returningBuyers: 0,
    repeatCustomers: 0,
    rhythmCustomers: 0,
    stats: null,
    verdict,
    reason,
    daysPerUnit: null,
    packs: null,
    memberRules: null,
    basis: null,
    coveredBy: null,
  };
}

/** The verdict on one product or group, by the rules of stats.ts and one-offs.ts. */
export function judge(
  products: readonly ProductRow[],
  group: ProductGroup | null,
  history: UnitHistory,
  packs: Pack[] | null = null,
): Candidate {
  const candidate: Candidate = {
    match: matchOf(products, group),
    products: products.map((p) => ({ sku: p.sku, name: p.name })),
    group,
    buyers: history.buyers,
    returningBuyers: history.returningBuyers,
    repeatCustomers: history.repeatCustomers,
    rhythmCustomers: history.rhythmCustomers,
    stats: history.stats,
    verdict: "too_little_evidence",
    reason: "",
    daysPerUnit: null,
    packs,
    memberRules: null,
    basis: null,
    coveredBy: null,
  };
  const gaps = history.stats?.perPurchase.n ?? 0;
  const oneOff = oneOffReason(history.returningBuyers, history.repeatCustomers);
  if (oneOff !== null) return { ...candidate, verdict: "one_off", reason: oneOff };
  if (
    history.stats === null ||
    history.repeatCustomers < MIN_REPEAT_CUSTOMERS ||
    gaps < MIN_GAPS ||
    history.rhythmCustomers < MIN_RHYTHM_CUSTOMERS
  ) {
    return {
      ...candidate,
      reason:
        `too little evidence: ${history.repeatCustomers} of ${history.buyers} customers bought it again ` +
        `(${history.rhythmCustomers} of them 3 times or more), ${gaps} gaps; a rule needs ${MIN_REPEAT_CUSTOMERS} ` +
        `customers (${MIN_RHYTHM_CUSTOMERS} of them 3 times) and ${MIN_GAPS} gaps`,
    };
  }
  const share = history.repeatCustomers / history.returningBuyers;
  if (share < MIN_REPURCHASE_SHARE) {
    return {
      ...candidate,
      verdict: "occasional",
      reason: `bought again now and then, not used up: of the ${history.returningBuyers} buyers who came back to the shop, ${history.repeatCustomers} (${Math.round(share * 100)} %) bought it again`,
    };
  }
  const spread = chosen(history.stats);
  if (spread.dispersion > MAX_REGULAR_DISPERSION) {
    return {
      ...candidate,
      verdict: "irregular",
      reason: `no regular rhythm: gaps of ${round(spread.q1)}–${round(spread.q3)} days between quartiles (dispersion ${spread.dispersion.toFixed(2)} > ${MAX_REGULAR_DISPERSION})`,
    };
  }
  const perUnit = rawDaysPerUnit(history.stats);
  return {
    ...candidate,
    verdict: "rule",
    reason: "a regular rhythm",
    daysPerUnit: packs === null ? daysPerUnitOf(history.stats) : Math.round(perUnit * 1000) / 1000,
    memberRules:
      packs === null
        ? null
        : products.map((product, i) => ({
            match: product.sku !== null ? { sku: product.sku } : { name: exactName(product.name ?? "") },
            daysPerUnit: roundDays(perUnit * (packs[i] as Pack).amount),
          })),
    basis: history.stats.basis,
  };
}

/** The first member a rule or the catalog's days_per_unit already covers. */
function coverage(supply: SupplyRules, products: readonly ProductRow[]): Candidate["coveredBy"] {
  for (const product of products) {
    const rule = supply.ruleFor({
      sku: product.sku,
      name: product.name,
      groupKey: product.catalogGroup ?? product.sku ?? product.name ?? "",
      daysPerUnit: product.daysPerUnit,
    });
    if (rule !== null) return { source: rule.source, daysPerUnit: rule.daysPerUnit };
  }
  return null;
}

export function round(days: number): number {
  return days >= 10 ? Math.round(days) : Math.round(days * 10) / 10;
}
