/**
 * Products that are the same thing under another SKU: a new vintage, another size, another colour.
 * Two products belong together when their names say the same once years, sizes, amounts and colours
 * are dropped (`Daily lenses, box of 30` / `… box of 90`, `Leila Pullover - Noire / S` / `… - Sand /
 * L`), or when their SKUs share a stem (`LNS-1D-30` / `LNS-1D-90`) and their names mostly agree.
 * A group the products import already set is the admin's decision: it is kept whole, new SKUs may
 * join it, and two such groups are never merged.
 */

const SIZE_WORDS = new Set([
  "xxs",
  "xs",
  "s",
  "m",
  "l",
  "xl",
  "xxl",
  "xxxl",
  "2xl",
  "3xl",
  "4xl",
  "small",
  "medium",
  "large",
  "os",
  "onesize",
]);

/** Colour words in the languages of the shops at hand; a colour is a variant, not another product. */
const COLOUR_WORDS = new Set(
  (
    "black white red blue green yellow pink purple orange brown grey gray beige navy ivory cream gold silver " +
    "teal turquoise bronze khaki olive maroon burgundy lilac lavender mint coral nude charcoal tan taupe sand " +
    "rose ruby amber jade clay walnut cocoa mauve midnight noir noire blanc blanche rouge bleu vert gris " +
    "schwarz weiss weiß rot blau grün gelb natural multi multicolour multicolor light dark pastel"
  ).split(" "),
);

/** Units that follow an amount: `12 kg`, `500ml`, `30 pcs`. */
const UNIT = "(?:kg|g|gr|mg|l|ml|cl|oz|lb|lbs|pcs|pc|pk|ct|x|er|st|stk|m|cm|mm|in)";
const AMOUNT = new RegExp(`^\\d+(?:[.,]\\d+)?${UNIT}?$`, "u");
const YEAR = /^(?:19|20)\d\d$/u;

/**
 * In a Shopify line name the part after the last " - " is the variant title (`Noire / S`); it is
 * dropped when it holds a " / " or nothing but variant words (sizes, colours, amounts).
 */
function withoutVariantTitle(name: string): string {
  const cut = name.lastIndexOf(" - ");
  if (cut <= 0) return name;
  const variant = name.slice(cut + 3);
  if (variant.includes(" / ") || tokens(variant).every(isVariantToken)) return name.slice(0, cut);
  return name;
}

function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}.,]+/u)
    .map((token) => token.replace(/^[.,]+|[.,]+$/gu, ""))
    .filter((token) => token !== "");
}

function isVariantToken(token: string): boolean {
  return (
    SIZE_WORDS.has(token) ||
    COLOUR_WORDS.has(token) ||
    AMOUNT.test(token) ||
    YEAR.test(token) ||
    new RegExp(`^${UNIT}$`, "u").test(token)
  );
}

/**
 * The name without what varies between editions of one product: years, sizes, amounts, units,
 * colours; "" when nothing is left to recognise the product by (a name of only `30 ml`).
 */
export function productStem(name: string | null): string {
  if (name === null) return "";
  const kept = tokens(withoutVariantTitle(name)).filter((token) => !isVariantToken(token));
  return kept.some((token) => /\p{L}{3}/u.test(token)) ? kept.join(" ") : "";
}

/**
 * The SKU without its last segment, when that segment reads as a variant code (`LNS-1D-30` →
 * `LNS-1D`, `WINE-RED-2019` → `WINE-RED`); null when the SKU has no separator or the stem is too
 * short to mean anything (`D-1`).
 */
export function skuStem(sku: string | null): string | null {
  if (sku === null) return null;
  const match = /^(.*[^-_./ ])[-_./ ]+([^-_./ ]{1,6})$/u.exec(sku.trim());
  if (match === null) return null;
  const stem = match[1] as string;
  return stem.replace(/[^\p{L}\p{N}]/gu, "").length >= 3 ? stem : null;
}

/** How much two names agree: shared words over all words (Jaccard), 1 when either has none to compare. */
export function nameAgreement(a: string, b: string): number {
  const left = new Set(a.split(" ").filter((t) => t !== ""));
  const right = new Set(b.split(" ").filter((t) => t !== ""));
  if (left.size === 0 || right.size === 0) return 1;
  let shared = 0;
  for (const token of left) if (right.has(token)) shared += 1;
  return shared / (left.size + right.size - shared);
}

/** SKUs sharing a stem are one product only if their names agree on at least half their words. */
export const MIN_NAME_AGREEMENT = 0.5;

export interface GroupingInput {
  /** Unique per product: its sku, or its name for lines without one. */
  key: string;
  sku: string | null;
  name: string | null;
  /** The group a products import set, else null. */
  catalogGroup: string | null;
}

export interface ProductGroup {
  /** The group's name: the catalog's, else the SKUs' common stem, else one made from the name. */
  name: string;
  /** True when a products import already made (some of) it: rules can match it as it stands. */
  fromCatalog: boolean;
  /** Member keys, in the input's order. */
  members: string[];
  /** Members a products import must still give this group (all of them for a new group). */
  toAssign: string[];
  /** Why they belong together, for the comment beside the rule. */
  reason: string;
}

class UnionFind {
  private readonly parent: number[];
  constructor(size: number) {
    this.parent = Array.from({ length: size }, (_, i) => i);
  }
  find(i: number): number {
    let root = i;
    while (this.parent[root] !== root) root = this.parent[root] as number;
    while (this.parent[i] !== root) {
      const next = this.parent[i] as number;
      this.parent[i] = root;
      i = next;
    }
    return root;
  }
  union(a: number, b: number): number {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
    return Math.min(ra, rb);
  }
}

/**
 * Every group of two products or more: the catalog's groups (with any new SKU that joins one), and
 * new groups of products that are one thing. `taken` holds every SKU and group name in use, so a new
 * group's name never collides with a product or a group it isn't.
 */
export function proposeGroups(
  products: readonly GroupingInput[],
  taken: ReadonlySet<string>,
): ProductGroup[] {
  const sets = new UnionFind(products.length);
  /** The catalog group of each union-find root, so two catalog groups are never joined. */
  const catalogOf = new Map<number, string>();
  const stems = products.map((product) => productStem(product.name));
  const reasons = new Map<number, Set<string>>();

  const join = (a: number, b: number, why: string | null): void => {
    const ra = sets.find(a);
    const rb = sets.find(b);
    if (ra === rb) return;
    const ga = catalogOf.get(ra);
    const gb = catalogOf.get(rb);
    if (ga !== undefined && gb !== undefined && ga.toLowerCase() !== gb.toLowerCase()) return;
    const root = sets.union(ra, rb);
    const group = ga ?? gb;
    catalogOf.delete(ra);
    catalogOf.delete(rb);
    if (group !== undefined) catalogOf.set(root, group);
    const merged = new Set([...(reasons.get(ra) ?? []), ...(reasons.get(rb) ?? [])]);
    if (why !== null) merged.add(why);
    reasons.delete(ra);
    reasons.delete(rb);
    reasons.set(root, merged);
  };

  products.forEach((product, i) => {
    if (product.catalogGroup !== null) catalogOf.set(i, product.catalogGroup);
  });
  joinBy(
    products,
    (p) => p.catalogGroup?.toLowerCase() ?? null,
    (a, b) => join(a, b, null),
  );
  joinBy(
    products.map((p, i) => ({ ...p, stem: stems[i] as string })),
    (p) => (p.stem === "" ? null : p.stem),
    (a, b) => join(a, b, "names that differ only in a size, an amount, a year or a colour"),
  );
  joinBy(
    products,
    (p) => skuStem(p.sku)?.toLowerCase() ?? null,
    (a, b) => {
      if (nameAgreement(stems[a] as string, stems[b] as string) >= MIN_NAME_AGREEMENT)
        join(a, b, `SKUs sharing the stem ${skuStem(products[a]?.sku ?? null)}`);
    },
  );

  const members = new Map<number, number[]>();
  products.forEach((_, i) => {
    const root = sets.find(i);
    const list = members.get(root);
    if (list === undefined) members.set(root, [i]);
    else list.push(i);
  });

  const used = new Set([...taken].map((name) => name.toLowerCase()));
  const groups: ProductGroup[] = [];
  for (const [root, indexes] of members) {
    if (indexes.length < 2) continue;
    const list = indexes.map((i) => products[i] as GroupingInput);
    const catalog = catalogOf.get(root);
    const why = [...(reasons.get(root) ?? [])];
    if (catalog !== undefined) {
      const toAssign = list.filter((p) => p.catalogGroup === null).map((p) => p.key);
      groups.push({
        name: catalog,
        fromCatalog: true,
        members: list.map((p) => p.key),
        toAssign,
        reason:
          toAssign.length === 0
            ? "the group of the products import"
            : `the group of the products import, joined by ${why.join(" and ") || "a new SKU"}`,
      });
      continue;
    }
    const name = uniqueName(groupName(list, stems[indexes[0] as number] as string), used);
    used.add(name.toLowerCase());
    groups.push({
      name,
      fromCatalog: false,
      members: list.map((p) => p.key),
      toAssign: list.map((p) => p.key),
      reason: why.join(" and "),
    });
  }
  return groups;
}

function joinBy<T>(
  items: readonly T[],
  keyOf: (item: T) => string | null,
  join: (a: number, b: number) => void,
): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    if (key === null) return;
    const seen = first.get(key);
    if (seen === undefined) first.set(key, i);
    else join(seen, i);
  });
}

/** The SKUs' common stem (`LNS-1D`), else the name's stem in capitals (`LEILA-PULLOVER`). */
function groupName(list: readonly GroupingInput[], stem: string): string {
  const skus = list.map((p) => p.sku);
  if (skus.every((sku) => sku !== null)) {
    const stems = new Set(skus.map((sku) => skuStem(sku)));
    const [only] = stems;
    if (stems.size === 1 && only !== null && only !== undefined) return only;
  }
  const slug = stem
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "");
  return slug === "" ? "GROUP" : slug;
}

/** A name no other product or group uses: `-2`, `-3`, … appended when it is taken. */
function uniqueName(name: string, used: ReadonlySet<string>): string {
  let candidate = name;
  for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${name}-${n}`;
  return candidate;
}

/** How much one unit of a product holds, read from its name: `box of 30` → 30 pieces, `12 kg`, `500 ml`. */
export interface Pack {
  amount: number;
  /** `piece` for a bare count (`30`, `30 pcs`), else a base unit: `kg`, `l`, `lb`, `oz`, `m`. */
  unit: string;
}

/** Units written after an amount, and the base unit and factor they are counted in. */
const PACK_UNITS: Record<string, [string, number]> = {
  kg: ["kg", 1],
  g: ["kg", 0.001],
  gr: ["kg", 0.001],
  mg: ["kg", 0.000001],
  l: ["l", 1],
  ml: ["l", 0.001],
  cl: ["l", 0.01],
  oz: ["oz", 1],
  lb: ["lb", 1],
  lbs: ["lb", 1],
  m: ["m", 1],
  cm: ["m", 0.01],
  mm: ["m", 0.001],
};
const PIECES = new Set(
  "|pcs|pc|pieces|pk|pack|ct|count|x|er|st|stk|tabs|tablets|caps|capsules|bags|pods|sachets|rolls".split("|"),
);

/**
 * The one amount a product's name states, or null when it states none or several (`2 x 500 ml`
 * is read as neither), or only a year (`Merlot 2019`).
 */
export function packAmount(name: string | null): Pack | null {
  if (name === null) return null;
  const found: Pack[] = [];
  const pattern = /(?<![\p{L}\p{N}.,])(\d+(?:[.,]\d+)?)\s*(\p{L}*)(?![\p{L}\p{N}])/gu;
  for (const match of withoutVariantTitle(name).toLowerCase().matchAll(pattern)) {
    const amount = Number((match[1] as string).replace(",", "."));
    const word = match[2] as string;
    if (word === "" && YEAR.test(match[1] as string)) continue;
    const unit = PACK_UNITS[word];
    if (unit !== undefined) found.push({ amount: amount * unit[1], unit: unit[0] });
    else if (PIECES.has(word)) found.push({ amount, unit: "piece" });
  }
  return found.length === 1 && (found[0] as Pack).amount > 0 ? (found[0] as Pack) : null;
}

/**
 * The pack of each member of a group, when they all state one in the same unit and not all the
 * same: then a unit of the box of 90 lasts 3 times a unit of the box of 30, and the group is
 * measured per piece (or kg, or litre). Else null: a unit is a unit.
 */
export function groupPacks(names: readonly (string | null)[]): Pack[] | null {
  const packs = names.map(packAmount);
  if (packs.some((pack) => pack === null)) return null;
  const known = packs as Pack[];
  const unit = (known[0] as Pack).unit;
  if (known.some((pack) => pack.unit !== unit)) return null;
  if (known.every((pack) => pack.amount === (known[0] as Pack).amount)) return null;
  return known;
}
