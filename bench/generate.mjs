/**
 * Deterministic generator of a large order-lines CSV export, for the import benchmark.
 *
 *   node bench/generate.mjs OUT.csv [LINES]      (default 1,000,000 lines, ~150 MB)
 *
 * The same seed and line count always give the same bytes: randomness comes only from our own
 * seeded PRNG (mulberry32), never Math.random, and dates are computed from fixed calendar bounds,
 * never from the clock. The file is streamed to disk in chunks, honouring backpressure; what we keep
 * in memory is the order schedule (one number per order), never the text.
 *
 * Shape of the data (what the importer must cope with):
 * - 100,000 customers per 1M lines (C000001…), each with a stable email, phone, names, locale and
 *   accepts_marketing; a customer's details depend only on the seed and the customer number, so they
 *   are the same in the 100k and the 1M file.
 * - 2,000 skus (SKU-00001…) whose names often contain commas and double quotes, some non-ASCII.
 * - Orders 100000… in chronological order, 1–9 lines each (mean ~5), rows of one order together,
 *   2023-01-01 … 2025-12-31. Each customer has a personal rhythm (interval between orders), a
 *   preferred time of day and a few favourite products they buy again.
 * - Statuses mostly completed, ~3% cancelled, ~1% refunded, some processing (mostly in the last days).
 * - ~2% of lines are returns (negative quantity), usually of something the customer bought before.
 * - A few hundred lines of guests with an email but no customer_id, and a few orders with neither.
 */
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { once } from "node:events";
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { finished } from "node:stream/promises";
import { pathToFileURL } from "node:url";

/** Bump whenever the output for a given seed and line count changes, so cached files are regenerated. */
export const GENERATOR_VERSION = 1;

export const HEADER = [
  "order_id",
  "ordered_at",
  "sku",
  "product_name",
  "quantity",
  "unit_price",
  "line_total",
  "currency",
  "status",
  "customer_id",
  "email",
  "phone",
  "first_name",
  "last_name",
  "accepts_marketing",
  "locale",
];

export const SKU_COUNT = 2000;
const FIRST_ORDER_ID = 100000;
const CURRENCY = "EUR";
/** 2023-01-01 … 2025-12-31 inclusive: 365 + 366 + 365 days. */
const SPAN_DAYS = 1096;
const SECONDS_PER_DAY = 86400;
/**
 * Schedule entries pack (second of span, customer index) into one double: second * 2^26 + index.
 * Seconds stay below 2^27, so entries stay below 2^53 (exact), for up to 2^26 (67M) customers.
 */
const PACK = 2 ** 26;
/** Flush the text buffer to the stream at about this many characters. */
const CHUNK_CHARS = 1 << 16;

// ---------------------------------------------------------------------------------------------
// Randomness: a tiny seeded PRNG, plus a hash so per-customer and per-sku streams are independent
// of how many lines we generate (customer 123 looks the same whatever the file size).

/** mulberry32: 32-bit state, fast, good enough for test data. Returns floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes two 32-bit integers into one (murmur3 finalizer), to seed independent sub-streams. */
function hash2(a, b) {
  let h = Math.imul((a ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

const int = (rng, lo, hi) => lo + Math.floor(rng() * (hi - lo + 1)); // inclusive bounds
const pick = (rng, list) => list[Math.floor(rng() * list.length)];
/** Standard normal via Box–Muller (one value per call; simplicity over speed, used only in planning). */
const normal = (rng) => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
/** Geometric: number of failures before a success, with the given mean. */
const geometric = (rng, mean) => Math.floor(Math.log(1 - rng()) / Math.log(mean / (1 + mean)));
/** Popular products are bought more often: a skewed index into the catalog (low indexes favoured). */
const popularSku = (rng) => Math.floor(SKU_COUNT * rng() * rng());

// ---------------------------------------------------------------------------------------------
// CSV and number formatting

/** RFC 4180: quote a field when it holds a delimiter, a quote or a line break; double inner quotes. */
export function csvField(value) {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Minor units to "12.90" / "-3.50"; integer arithmetic, so there is no float rounding. */
function formatCents(cents) {
  const abs = Math.abs(cents);
  const frac = abs % 100;
  return `${cents < 0 ? "-" : ""}${(abs - frac) / 100}.${frac < 10 ? "0" : ""}${frac}`;
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
/** "YYYY-MM-DD" for every day of the span, from fixed UTC bounds (no clock, no time zones). */
const DAY_STRINGS = Array.from({ length: SPAN_DAYS }, (_, d) =>
  new Date(Date.UTC(2023, 0, 1 + d)).toISOString().slice(0, 10),
);

// ---------------------------------------------------------------------------------------------
// The catalog: 2,000 consumables (things people buy again, which is what comeback is about).
// Names mix commas, quoted variants and non-ASCII text on purpose: they exercise CSV quoting.

const FAMILIES = [
  {
    bases: ["Dog food", "Puppy food", "Cat food", "Senior dog food"],
    variants: ['"Premium"', '"Adult"', "grain-free", '"Sensitive"', "with salmon"],
    sizes: ["2 kg", "4 kg", "12 kg", "15 kg"],
    euros: [9, 69],
  },
  {
    bases: ["Cat litter", "Hamster bedding", "Katzenstreu"],
    variants: ["clumping", "unscented", '"Fresh"'],
    sizes: ["5 l", "10 l", "20 l"],
    euros: [5, 29],
  },
  {
    bases: ["Kaffee Crème", "Espresso beans", "Café moulu", "Filterkaffee"],
    variants: ['"Roma"', "dark roast", "bio", "entkoffeiniert"],
    sizes: ["250 g", "500 g", "1 kg"],
    euros: [5, 29],
  },
  {
    bases: ["Кофе в зёрнах", "Чай чёрный", "Чай зелёный"],
    variants: ["«Классика»", "без кофеина", '"Gold"'],
    sizes: ["250 г", "500 г", "1 кг"],
    euros: [4, 25],
  },
  {
    bases: ["Contact lenses", "Kontaktlinsen Monatslinsen", "Линзы 1-дневные"],
    variants: ["-1.50", "+2.00", '"Daily"', "toric"],
    sizes: ["6 pcs", "30 pcs", "90 pcs"],
    euros: [19, 79],
  },
  {
    bases: ["Lens solution", "Раствор для линз", "Kochsalzlösung"],
    variants: ['"All-in-one"', "peroxide", "sensitive eyes"],
    sizes: ["100 ml", "360 ml", "2 × 360 ml"],
    euros: [4, 24],
  },
  {
    bases: ["Crème hydratante", "Hand cream", "Shampoo", "Duschgel"],
    variants: ['"Sensitive"', "for dry skin", "Aloe & Vera", "parfümfrei"],
    sizes: ["50 ml", "250 ml", "500 ml"],
    euros: [3, 35],
  },
  {
    bases: ["Vitamin D3", "Omega-3", "Magnesium", "Vitamin B12"],
    variants: ['"Forte"', "1000 IU", "vegan", "1,000 mg"],
    sizes: ["60 caps", "120 caps", "365 tabs"],
    euros: [6, 39],
  },
  {
    bases: ["Water filter cartridge", "Coffee machine descaler", "Entkalker"],
    variants: ['"Maxtra+"', "universal", "for hard water"],
    sizes: ["1-pack", "3-pack", "6-pack"],
    euros: [7, 49],
  },
  {
    bases: ["Printer ink", "Toner", "Druckerpatrone"],
    variants: ["black", "cyan, magenta, yellow", '"XL"'],
    sizes: ["1 pc", "set of 4"],
    euros: [12, 89],
  },
];
const CENT_ENDINGS = [90, 99, 50, 0, 49, 95];

/**
 * The 2,000 skus, from their own PRNG stream. Returns parallel arrays: sku codes, raw names,
 * unit prices in cents, and the pre-formatted CSV fragment "sku,name" (quoted as needed).
 */
export function buildCatalog(seed) {
  const rng = mulberry32(hash2(seed, 0xca7a106));
  const skus = [];
  const names = [];
  const cents = new Int32Array(SKU_COUNT);
  const fragments = [];
  for (let i = 0; i < SKU_COUNT; i++) {
    const family = pick(rng, FAMILIES);
    let name = pick(rng, family.bases);
    if (rng() < 0.6) {
      const variant = pick(rng, family.variants);
      // `Dog food "Premium"` or `Shampoo, for dry skin`
      name += (variant.startsWith('"') || rng() < 0.4 ? " " : ", ") + variant;
    }
    // `…, 12 kg` or `Kaffee Crème 1 kg`
    name += (rng() < 0.5 ? ", " : " ") + pick(rng, family.sizes);
    const sku = `SKU-${String(i + 1).padStart(5, "0")}`;
    skus.push(sku);
    names.push(name);
    cents[i] = int(rng, family.euros[0], family.euros[1]) * 100 + pick(rng, CENT_ENDINGS);
    fragments.push(`${sku},${csvField(name)}`);
  }
  return { skus, names, cents, fragments };
}

// ---------------------------------------------------------------------------------------------
// Customers: everything about customer c comes from a PRNG seeded by (seed, c), drawn in a fixed
// order, so the planner and the writer can each re-derive it without storing 100k objects.

const PEOPLE = {
  de: {
    first: ["Anna", "Lukas", "Marie", "Jonas", "Sophie", "Felix", "Lena", "Paul", "Jörg", "Renée"],
    last: ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Schröder", "Koch", "Groß", "Wagner"],
  },
  en: {
    first: ["Emma", "Oliver", "Amelia", "Jack", "Olivia", "Harry", "Isla", "George", "Chloé"],
    last: ["Smith", "Jones", "Taylor", "Brown", "Williams", "O'Neill", "Davies", "Evans", "Wilson"],
  },
  ru: {
    first: ["Ольга", "Иван", "Анна", "Дмитрий", "Елена", "Сергей", "Наталья", "Алексей"],
    last: ["Иванова", "Смирнов", "Кузнецова", "Попов", "Соколова", "Лебедев", "Козлова"],
  },
};

/** Customer kinds by index range: [0, n) registered, then guests with an email, then anonymous guests. */
function customerKind(c, counts) {
  if (c < counts.registered) return "registered";
  return c < counts.registered + counts.emailGuests ? "emailGuest" : "anonymous";
}

/**
 * Draws a customer's identity and habits from their PRNG. Returns the CSV fragment for the seven
 * customer columns and the favourite skus. Must be called first on a fresh customer PRNG: the planner
 * continues drawing from the same PRNG afterwards.
 */
function describeCustomer(rng, c, counts) {
  const kind = customerKind(c, counts);
  const u = rng();
  const locale = u < 0.6 ? "de" : u < 0.9 ? "en" : "ru";
  const first = pick(rng, PEOPLE[locale].first);
  const last = pick(rng, PEOPLE[locale].last);
  const marketing = rng() < 0.6 ? "yes" : "no";
  const hasPhone = rng() < 0.9;
  // Phone digits are a bijection of the customer number (odd multiplier mod 10^7): unique phones.
  const phoneDigits = String((c * 7919 + 1234567) % 10_000_000).padStart(7, "0");
  const phone = `+49 ${pick(rng, ["151", "160", "170", "176"])} ${phoneDigits}`;
  const favourites = [popularSku(rng), popularSku(rng), popularSku(rng)];

  let fields;
  if (kind === "registered") {
    const id = String(c + 1).padStart(6, "0");
    fields = [`C${id}`, `c${id}@example.com`, hasPhone ? phone : "", first, last, marketing, locale];
  } else if (kind === "emailGuest") {
    // A guest checkout: identified only by an email; no phone, so the email is the only identity.
    const n = String(c - counts.registered + 1).padStart(5, "0");
    fields = ["", `guest${n}@example.org`, "", first, last, marketing, locale];
  } else {
    // No customer_id, email or phone: the importer can't tie this order to anyone.
    fields = ["", "", "", first, last, "", locale];
  }
  return { kind, fragment: fields.map(csvField).join(","), favourites };
}

/**
 * When does each customer order? Returns the schedule: a sorted Float64Array of
 * (second of span) * 2^26 + customer index, one entry per order. Order ids are then given in this
 * order, so ids and times rise together, as in a real shop.
 *
 * 100k customers and ~5 lines per order over 1M lines leave ~2 orders per customer on average, so
 * registered customers are a mix: 35% order once, 50% are regulars (2 + geometric(0.2) orders,
 * median interval 120 days), 15% are loyal (3 + geometric(0.7) orders, median 60 days). Each has a
 * personal interval (log-normal, jittered ±15% per order) and a preferred hour of day.
 */
function planOrders(seed, counts) {
  const entries = [];
  const total = counts.registered + counts.emailGuests + counts.anonymous;
  for (let c = 0; c < total; c++) {
    const rng = mulberry32(hash2(seed, c));
    const { kind } = describeCustomer(rng, c, counts);
    const hour = int(rng, 7, 22);
    let n;
    let interval;
    if (kind === "registered") {
      const type = rng();
      n = type < 0.35 ? 1 : type < 0.85 ? 2 + geometric(rng, 0.2) : 3 + geometric(rng, 0.7);
      const median = type < 0.85 ? 120 : 60;
      interval = Math.min(540, Math.max(10, median * Math.exp(0.45 * normal(rng))));
    } else if (kind === "emailGuest") {
      n = int(rng, 1, 2); // some guests come back, under the same email
      interval = int(rng, 30, 300);
    } else {
      n = 1;
      interval = 1;
    }
    const gaps = [];
    let length = 0;
    for (let k = 1; k < n; k++) {
      const gap = interval * (0.85 + 0.3 * rng());
      gaps.push(gap);
      length += gap;
    }
    // Squeeze very long histories into the span, then start somewhere they still fit.
    const squeeze = length > SPAN_DAYS - 1 ? (SPAN_DAYS - 1) / length : 1;
    let day = rng() * (SPAN_DAYS - length * squeeze);
    for (let k = 0; k < n; k++) {
      if (k > 0) day += gaps[k - 1] * squeeze;
      // Around the preferred hour (±2 h), between 06:00 and 23:59:59.
      const secondOfDay = Math.min(SECONDS_PER_DAY - 1, Math.max(21600, hour * 3600 + int(rng, -7200, 7200)));
      const second = Math.min(SPAN_DAYS - 1, Math.floor(day)) * SECONDS_PER_DAY + secondOfDay;
      entries.push(second * PACK + c);
    }
  }
  // Typed-array sort is numeric: chronological, ties broken by customer index.
  return Float64Array.from(entries).sort();
}

/** How many of each kind of customer for a file of `lines` lines (100k registered per 1M lines). */
function customerCounts(lines) {
  return {
    registered: Math.max(1, Math.round(lines / 10)),
    emailGuests: Math.round(lines / 25_000), // ~40 guests, ~60 orders, ~300 lines per 1M
    anonymous: Math.round(lines / 200_000), // ~5 orders per 1M
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * Writes the CSV to `path` (via a temporary file renamed at the end, so an interrupted run never
 * leaves a plausible-looking file). Returns a summary, including what an importer should find.
 */
export async function generateOrders(path, { lines = 1_000_000, seed = 42 } = {}) {
  if (!Number.isInteger(lines) || lines < 1000) throw new RangeError(`lines must be an integer ≥ 1000`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer`);
  const started = performance.now();
  const counts = customerCounts(lines);
  if (counts.registered + counts.emailGuests + counts.anonymous > PACK)
    throw new RangeError("too many lines");
  const catalog = buildCatalog(seed);
  const schedule = planOrders(seed, counts);
  const orders = schedule.length;
  // Every order needs 1–9 lines: the schedule must fit the requested line count.
  if (orders > lines || lines > 9 * orders) {
    throw new RangeError(`${orders} orders can't hold ${lines} lines at 1–9 lines per order`);
  }

  const target = resolve(path);
  const tmp = `${target}.${process.pid}.tmp`;
  await mkdir(dirname(target), { recursive: true });
  const out = createWriteStream(tmp, { highWaterMark: 1 << 20 });
  // Listen for errors from the start; a write error rejects `done`, which we race with 'drain'.
  const done = finished(out);
  done.catch(() => {});

  const rng = mulberry32(hash2(seed, 0x0bde5));
  const lastSku = new Int32Array(counts.registered + counts.emailGuests + counts.anonymous).fill(-1);
  const chosen = [];
  const seenCustomers = new Uint8Array(lastSku.length);
  const stats = { returns: 0, guestEmailOrders: 0, anonymousOrders: 0, statuses: {} };
  let remainingLines = lines;
  let chunk = HEADER.join(",") + "\n";

  try {
    for (let i = 0; i < orders; i++) {
      const entry = schedule[i];
      const c = entry % PACK;
      const second = (entry - c) / PACK;
      const customer = describeCustomer(mulberry32(hash2(seed, c)), c, counts);
      seenCustomers[c] = 1;
      if (customer.kind === "emailGuest") stats.guestEmailOrders++;
      if (customer.kind === "anonymous") stats.anonymousOrders++;

      // Lines per order: 1 + Binomial(8, p) with mean (remaining lines / remaining orders), then
      // clamped so the remaining orders can still take the remaining lines: exact total, mean ~5.
      const remainingOrders = orders - i;
      const p = Math.min(1, Math.max(0, (remainingLines / remainingOrders - 1) / 8));
      let count = 1;
      for (let k = 0; k < 8; k++) if (rng() < p) count++;
      count = Math.min(count, 9, remainingLines - (remainingOrders - 1));
      count = Math.max(count, 1, remainingLines - 9 * (remainingOrders - 1));
      remainingLines -= count;

      const day = Math.floor(second / SECONDS_PER_DAY);
      const secondOfDay = second % SECONDS_PER_DAY;
      const orderedAt = `${DAY_STRINGS[day]} ${TWO_DIGITS[Math.floor(secondOfDay / 3600)]}:${
        TWO_DIGITS[Math.floor(secondOfDay / 60) % 60]
      }:${TWO_DIGITS[secondOfDay % 60]}`;

      // Recent orders are often still being processed; older ones mostly completed.
      const s = rng();
      const status =
        day >= SPAN_DAYS - 10
          ? s < 0.7
            ? "processing"
            : "completed"
          : s < 0.03
            ? "cancelled"
            : s < 0.04
              ? "refunded"
              : s < 0.043
                ? "processing"
                : "completed";
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;

      const prefix = `${FIRST_ORDER_ID + i},${orderedAt},`;
      const suffix = `,${CURRENCY},${status},${customer.fragment}\n`;
      chosen.length = 0;
      for (let k = 0; k < count; k++) {
        const isReturn = rng() < 0.02;
        let sku;
        // A return is usually of something bought before; otherwise favourites or popular products.
        // Avoid repeating a sku within one order (a few tries, then accept a repeat).
        for (let attempt = 0; attempt < 6; attempt++) {
          if (isReturn && lastSku[c] >= 0 && attempt === 0) sku = lastSku[c];
          else if (rng() < 0.55) sku = customer.favourites[int(rng, 0, 2)];
          else sku = popularSku(rng);
          if (!chosen.includes(sku)) break;
        }
        chosen.push(sku);
        let quantity;
        if (isReturn) {
          quantity = rng() < 0.8 ? -1 : -2;
          stats.returns++;
        } else {
          const q = rng();
          quantity = q < 0.7 ? 1 : q < 0.9 ? 2 : q < 0.98 ? int(rng, 3, 5) : int(rng, 6, 12);
        }
        const unit = catalog.cents[sku];
        chunk += `${prefix}${catalog.fragments[sku]},${quantity},${formatCents(unit)},${formatCents(
          unit * quantity,
        )}${suffix}`;
      }
      lastSku[c] = chosen[0];

      if (chunk.length >= CHUNK_CHARS) {
        // Backpressure: when the stream's buffer is full, wait for it to drain before going on.
        if (!out.write(chunk)) await Promise.race([once(out, "drain"), done]);
        chunk = "";
      }
    }
    out.end(chunk);
    await done;
    await rename(tmp, target);
  } catch (error) {
    out.destroy();
    await rm(tmp, { force: true });
    throw error;
  }

  let customersWithOrders = 0;
  for (let c = 0; c < counts.registered; c++) customersWithOrders += seenCustomers[c];
  let guestEmailsWithOrders = 0;
  for (let c = counts.registered; c < counts.registered + counts.emailGuests; c++) {
    guestEmailsWithOrders += seenCustomers[c];
  }
  return {
    path: target,
    version: GENERATOR_VERSION,
    seed,
    lines,
    bytes: out.bytesWritten,
    orders,
    customers: customersWithOrders,
    guestEmails: guestEmailsWithOrders,
    guestEmailOrders: stats.guestEmailOrders,
    anonymousOrders: stats.anonymousOrders,
    returns: stats.returns,
    statuses: stats.statuses,
    seconds: (performance.now() - started) / 1000,
  };
}

// Script mode: node bench/generate.mjs OUT.csv [LINES] [SEED]
// Prints a human line, then the summary as one JSON line (bench/run.mjs reads the last line).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [out, linesArg, seedArg] = process.argv.slice(2);
  if (!out) {
    console.error("usage: node bench/generate.mjs OUT.csv [LINES] [SEED]");
    process.exit(2);
  }
  const lines = linesArg === undefined ? 1_000_000 : Number(linesArg.replaceAll("_", ""));
  const seed = seedArg === undefined ? 42 : Number(seedArg);
  try {
    const summary = await generateOrders(out, { lines, seed });
    console.log(
      `${summary.path}: ${summary.lines} lines, ${summary.orders} orders, ` +
        `${(summary.bytes / 2 ** 20).toFixed(1)} MiB in ${summary.seconds.toFixed(2)} s`,
    );
    console.log(JSON.stringify(summary));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
