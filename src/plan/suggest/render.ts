/**
 * The suggestion as the admin gets it: YAML that is itself a valid config (a `replenishment.rules`
 * list, each rule with its evidence as comments), the products CSV that makes new groups, and the
 * JSON for scripts.
 */
import {
  MAX_REGULAR_DISPERSION,
  MIN_GAPS,
  MIN_REPEAT_CUSTOMERS,
  MIN_RHYTHM_CUSTOMERS,
  type Spread,
} from "./stats.js";
import type { Pack } from "./grouping.js";
import { label, round, type Candidate, type RuleMatch, type SuggestReport, type Verdict } from "./suggest.js";

/** How many of each kind of left-out product the YAML lists by name; --json has them all. */
export const LISTED_PER_KIND = 15;

/** A YAML scalar: JSON's double-quoted strings are YAML too, and say exactly what the text is. */
function q(text: string): string {
  return JSON.stringify(text);
}

/** Comment text on one line: a product name from a CSV must not end the comment early. */
function flat(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

function matchYaml(match: RuleMatch): string {
  if ("group" in match) return `{ group: ${q(match.group)} }`;
  if ("sku" in match) return `{ sku: ${q(match.sku)} }`;
  return `{ name: ${q(match.name)} }`;
}

/** A product in a comment: `LNS-1D-30 "Daily lenses, box of 30"` (a comment needs no escaping). */
function productText(product: { sku: string | null; name: string | null }): string {
  const name = `"${product.name ?? ""}"`;
  if (product.sku === null) return name;
  return product.name === null ? product.sku : `${product.sku} ${name}`;
}

function quartiles(spread: Spread, unit: string): string {
  return `${round(spread.q1)} / ${round(spread.median)} / ${round(spread.q3)} ${unit}`;
}

/** The comment lines beside a rule or a near miss: members, evidence, basis. */
function evidenceLines(candidate: Candidate): string[] {
  const lines: string[] = [];
  if (candidate.group !== null) {
    const g = candidate.group;
    const shown = candidate.products.slice(0, 8).map(productText).join(", ");
    const more = candidate.products.length > 8 ? `, and ${candidate.products.length - 8} more` : "";
    lines.push(`${g.fromCatalog ? "group" : "new group"} ${g.name} (${g.reason}): ${shown}${more}`);
    const skuless = candidate.products.filter((p) => p.sku === null).length;
    if (skuless === candidate.products.length)
      lines.push(
        "no SKUs: the rule names each product, and each is reminded on its own (only a SKU can join a group)",
      );
    else if (skuless > 0)
      lines.push(
        `${skuless} of them have no SKU: the products import can't put them in the group, nor does the rule cover them`,
      );
  } else {
    lines.push(productText(candidate.products[0] ?? { sku: null, name: null }));
  }
  lines.push(
    `evidence: ${candidate.buyers} customers bought it; of the ${candidate.returningBuyers} who came back to the shop, ` +
      `${candidate.repeatCustomers} bought it again (${candidate.rhythmCustomers} of them 3 times or more); ` +
      `${candidate.stats?.perPurchase.n ?? 0} gaps between consecutive purchases`,
  );
  const stats = candidate.stats;
  if (stats !== null) {
    lines.push(
      `gap per purchase: quartiles ${quartiles(stats.perPurchase, "days")}, dispersion ${stats.perPurchase.dispersion.toFixed(2)}`,
    );
    const per = measureOf(candidate);
    lines.push(
      `gap per ${per}:${" ".repeat(Math.max(1, 9 - per.length))}quartiles ${quartiles(stats.perUnit, "days")}, dispersion ${stats.perUnit.dispersion.toFixed(2)}`,
    );
  }
  if (candidate.packs !== null) {
    const packs = candidate.products.map(
      (p, i) => `${p.sku ?? `"${p.name ?? ""}"`} ${formatPack(candidate.packs?.[i])}`,
    );
    lines.push(
      `packs differ (${packs.join(", ")}): measured per ${measureOf(candidate)}, one rule per product`,
    );
  }
  if (candidate.verdict === "rule" && stats !== null) {
    lines.push(
      candidate.basis === "per_unit"
        ? `basis: per ${measureOf(candidate)} (the quantity explains the gap: customers who buy more wait longer)`
        : stats.typicalQuantity === 1
          ? "basis: per purchase (the typical purchase is 1 unit)"
          : `basis: per purchase (quantity doesn't explain the gap): the median gap over the typical quantity, ${stats.typicalQuantity}`,
    );
  }
  if (candidate.coveredBy !== null) {
    lines.push(
      `already covered by ${candidate.coveredBy.source}: ${candidate.coveredBy.daysPerUnit} days per unit`,
    );
  }
  return lines;
}

/** The rules a candidate makes: one, or one per member when the members' packs differ. */
export function rulesOf(candidate: Candidate): { match: RuleMatch; daysPerUnit: number }[] {
  if (candidate.memberRules !== null) return candidate.memberRules;
  return candidate.daysPerUnit === null
    ? []
    : [{ match: candidate.match, daysPerUnit: candidate.daysPerUnit }];
}

/** What the per-unit gap counts in: `unit`, or the packs' `piece`, `kg`, `l`. */
function measureOf(candidate: Candidate): string {
  return candidate.packs?.[0]?.unit ?? "unit";
}

function formatPack(pack: Pack | undefined): string {
  if (pack === undefined) return "";
  return pack.unit === "piece" ? `${pack.amount} pieces` : `${pack.amount} ${pack.unit}`;
}

const KIND_TITLES: Record<Exclude<Verdict, "rule">, string> = {
  not_a_product: "not products (charges, vouchers, corrections, free items)",
  one_off: "one-offs (bought by many, again by almost none)",
  occasional:
    "bought again now and then, not used up (a minority of the buyers who came back bought it again)",
  irregular: `no regular rhythm (enough evidence, but Q3 > 3 × Q1: dispersion above ${MAX_REGULAR_DISPERSION})`,
  too_little_evidence: `too little evidence (fewer than ${MIN_REPEAT_CUSTOMERS} customers buying again, ${MIN_RHYTHM_CUSTOMERS} buying 3 times, or ${MIN_GAPS} gaps)`,
};

/** The file the products import reads to make the new groups: `sku,group`, one line per product. */
export function productsCsv(report: SuggestReport): string | null {
  const rows: string[] = [];
  for (const candidate of report.rules) {
    const group = candidate.group;
    if (group === null || candidate.coveredBy !== null) continue;
    for (const product of candidate.products) {
      if (product.sku === null) continue;
      const key = product.sku;
      if (group.toAssign.includes(key)) rows.push(`${csvCell(key)},${csvCell(group.name)}`);
    }
  }
  return rows.length === 0 ? null : `sku,group\n${rows.join("\n")}\n`;
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface RenderOptions {
  /** Where the products CSV was written, when it was; else its lines go into the YAML as comments. */
  productsFile: string | null;
}

export function renderYaml(report: SuggestReport, options: RenderOptions): string {
  const suggested = report.rules.filter((c) => c.coveredBy === null);
  const covered = report.rules.filter((c) => c.coveredBy !== null);
  const out: string[] = [];
  const c = (text = ""): void => {
    out.push(text === "" ? "#" : `# ${flat(text)}`);
  };
  c(
    `comeback rules suggest, as of ${report.today}: ${report.customers} customers (${report.returningCustomers} ordered again), ${report.products} products.`,
  );
  c("Review, then copy the rules you want under replenishment.rules in your comeback.yaml (first match");
  c(
    "wins: your own rules placed above these win). This file is a valid config on its own; it changes nothing.",
  );
  c(
    `A rule needs ${MIN_GAPS} gaps between consecutive purchases from ${MIN_REPEAT_CUSTOMERS} customers or more (${MIN_RHYTHM_CUSTOMERS} of them buying it 3 times),`,
  );
  c(
    "bought again by at least half the buyers who came back to the shop, and a regular rhythm: the upper quartile",
  );
  c(`of the gaps at most 3 × the lower (dispersion ≤ ${MAX_REGULAR_DISPERSION}; random timing gives 0.66).`);
  c(
    "days_per_unit is the median gap: per unit when customers who buy more wait longer in proportion, else per",
  );
  c("purchase (the median gap over the typical quantity, so a typical purchase lasts the median gap).");
  const csv = productsCsv(report);
  if (csv !== null) {
    c();
    if (options.productsFile !== null) {
      c("New groups: a rule below names a group the catalog doesn't have yet. Make it first with");
      c(`  comeback import products ${options.productsFile}`);
    } else {
      c(
        "New groups: a rule below names a group the catalog doesn't have yet. Save these lines as groups.csv",
      );
      c(
        "and run  comeback import products groups.csv  first (it sets only the group; nothing else changes):",
      );
      for (const line of csv.trimEnd().split("\n")) c(`  ${line}`);
    }
  }
  if (suggested.length === 0) {
    c();
    c(
      report.customers === 0
        ? "No rule: there are no customers' orders yet."
        : `No rule: no product is bought again regularly enough, by enough customers, to make a rule of (${report.returningCustomers} of the ${report.customers} customers ordered again at all).`,
    );
    c("Reminders need no rules: comeback also learns rhythms from the purchases themselves.");
  }
  out.push("replenishment:");
  out.push(suggested.length === 0 && covered.length === 0 ? "  rules: []" : "  rules:");
  for (const candidate of suggested) {
    out.push("");
    for (const line of evidenceLines(candidate)) out.push(`    # ${flat(line)}`);
    for (const rule of rulesOf(candidate)) {
      out.push(`    - match: ${matchYaml(rule.match)}`);
      out.push(`      days_per_unit: ${rule.daysPerUnit}`);
    }
  }
  if (covered.length > 0) {
    out.push("");
    out.push(
      "    # Already covered by your config or the catalog: the history's figure, to compare (commented out).",
    );
    for (const candidate of covered) {
      out.push("");
      for (const line of evidenceLines(candidate)) out.push(`    # ${flat(line)}`);
      for (const rule of rulesOf(candidate)) {
        out.push(`    # - match: ${matchYaml(rule.match)}`);
        out.push(`    #   days_per_unit: ${rule.daysPerUnit}`);
      }
    }
  }
  out.push("");
  c(`Left out: ${report.skipped.length} products or groups.`);
  for (const kind of Object.keys(KIND_TITLES) as (keyof typeof KIND_TITLES)[]) {
    const list = report.skipped.filter((s) => s.verdict === kind);
    if (list.length === 0) continue;
    c();
    c(
      `${KIND_TITLES[kind]}: ${list.length}${list.length > LISTED_PER_KIND ? `, the ${LISTED_PER_KIND} with most evidence` : ""}`,
    );
    for (const candidate of list.slice(0, LISTED_PER_KIND)) c(`  ${skippedLine(candidate)}`);
  }
  return `${out.join("\n")}\n`;
}

function skippedLine(candidate: Candidate): string {
  const what =
    candidate.group !== null
      ? `${candidate.group.name} (${candidate.products.length} products)`
      : productText(candidate.products[0] ?? { sku: null, name: null });
  if (candidate.verdict === "not_a_product")
    return `${what}: ${candidate.reason.replace(/^not a product: /, "")}`;
  if (candidate.verdict === "irregular" && candidate.stats !== null) {
    const s = candidate.stats.basis === "per_unit" ? candidate.stats.perUnit : candidate.stats.perPurchase;
    const unit = candidate.stats.basis === "per_unit" ? "days per unit" : "days";
    return `${what}: ${candidate.repeatCustomers} customers, ${s.n} gaps, quartiles ${quartiles(s, unit)}, dispersion ${s.dispersion.toFixed(2)}`;
  }
  if (candidate.verdict === "too_little_evidence") {
    const stats = candidate.stats;
    const median =
      stats === null
        ? ""
        : stats.typicalQuantity === 1
          ? `, median gap ${round(stats.perPurchase.median)} days`
          : `, median gap ${round(stats.perPurchase.median)} days (${round(stats.perUnit.median)} per ${measureOf(candidate)})`;
    const gaps = stats?.perPurchase.n ?? 0;
    return (
      `${what}: ${candidate.buyers} buyers, ${candidate.returningBuyers} came back to the shop, ` +
      `${candidate.repeatCustomers} bought it again (${candidate.rhythmCustomers} 3 times or more), ` +
      `${gaps} ${gaps === 1 ? "gap" : "gaps"}${median}`
    );
  }
  return `${what}: ${candidate.reason}`;
}

function spreadJson(spread: Spread): Record<string, number> {
  return {
    q1: round(spread.q1),
    median: round(spread.median),
    q3: round(spread.q3),
    dispersion: Math.round(spread.dispersion * 1000) / 1000,
  };
}

function candidateJson(candidate: Candidate): Record<string, unknown> {
  const stats = candidate.stats;
  return {
    label: label(candidate),
    match: candidate.match,
    verdict: candidate.verdict,
    reason: candidate.reason,
    days_per_unit: candidate.memberRules === null ? candidate.daysPerUnit : null,
    basis: candidate.basis,
    packs: candidate.packs,
    /** One rule per member, when their packs differ; then days_per_unit is null and per_pack_unit says the rhythm. */
    member_rules:
      candidate.memberRules?.map((rule) => ({ match: rule.match, days_per_unit: rule.daysPerUnit })) ?? null,
    per_pack_unit:
      candidate.memberRules === null ? null : { unit: measureOf(candidate), days: candidate.daysPerUnit },
    products: candidate.products,
    group:
      candidate.group === null
        ? null
        : {
            name: candidate.group.name,
            new: !candidate.group.fromCatalog,
            to_assign: candidate.group.toAssign.filter((k) => !k.startsWith("\u0000")),
            reason: candidate.group.reason,
          },
    buyers: candidate.buyers,
    returning_buyers: candidate.returningBuyers,
    repeat_customers: candidate.repeatCustomers,
    rhythm_customers: candidate.rhythmCustomers,
    gaps: stats?.perPurchase.n ?? 0,
    per_purchase: stats === null ? null : spreadJson(stats.perPurchase),
    per_unit: stats === null ? null : spreadJson(stats.perUnit),
    typical_quantity: stats?.typicalQuantity ?? null,
    covered_by:
      candidate.coveredBy === null
        ? null
        : { source: candidate.coveredBy.source, days_per_unit: candidate.coveredBy.daysPerUnit },
  };
}

export function reportJson(
  report: SuggestReport,
  files: { yaml: string | null; products: string | null },
): unknown {
  return {
    now: report.now,
    today: report.today,
    customers: report.customers,
    returning_customers: report.returningCustomers,
    products: report.products,
    thresholds: report.thresholds,
    rules: report.rules.map(candidateJson),
    skipped: report.skipped.map(candidateJson),
    files,
  };
}
