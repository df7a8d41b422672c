/**
 * Dates and times: turning the many ways shops write a timestamp into one UTC ISO string.
 *
 * The date parser runs for every cell of a date column (a million times for a big file), so all
 * work that depends only on the profile — compiling the format, looking up the zone — happens
 * once in makeDateParser, and the per-value path allocates nothing but the result string.
 * A format compiles to a small program of steps run over char codes rather than to a regex
 * with capture groups, whose match array and one new string per capture (each then put
 * through Number()) were most of the cost: the whole parse measured about a third faster.
 * Luxon is used only for the zone's offset rules, and its answers are cached per local day,
 * because asking Intl for an offset costs microseconds while an import's timestamps fall on
 * comparatively few distinct days.
 */
import { IANAZone } from "luxon";
import { ConfigError } from "./errors.js";

/** Parses one cell; returns `2026-03-02T08:00:00Z` (UTC, whole seconds) or null when it isn't a valid date. */
export type DateParser = (text: string) => string | null;

const SECONDS_PER_DAY = 86_400;

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic. Written out rather than done with Date because Date.UTC maps years
// 0–99 to 1900–1999 and because building a Date per value is an allocation we don't need.
// ---------------------------------------------------------------------------------------------

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const ZERO = 48; // char code of "0"

/**
 * Writes `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch. One String.fromCharCode call builds
 * a flat string directly (measured about four times faster than concatenating padded pieces),
 * and the calendar date of the previous call is kept because consecutive rows of an export
 * mostly fall on the same day.
 */
class IsoWriter {
  private day = Number.NaN;
  private year = 0;
  private month = 0;
  private dayOfMonth = 0;

  /** null outside years 0000–9999, which this form can't write. */
  write(epochSeconds: number): string | null {
    const days = Math.floor(epochSeconds / SECONDS_PER_DAY);
    if (days !== this.day) this.setDay(days);
    const { year, month, dayOfMonth } = this;
    if (year < 0 || year > 9999) return null;
    // All non-negative from here on, so `| 0` truncates like Math.floor, and cheaper.
    let rest = epochSeconds - days * SECONDS_PER_DAY;
    const hour = (rest / 3600) | 0;
    rest -= hour * 3600;
    const minute = (rest / 60) | 0;
    const second = rest - minute * 60;
    return String.fromCharCode(
      ZERO + ((year / 1000) | 0),
      ZERO + (((year / 100) | 0) % 10),
      ZERO + (((year / 10) | 0) % 10),
      ZERO + (year % 10),
      45, // -
      ZERO + ((month / 10) | 0),
      ZERO + (month % 10),
      45,
      ZERO + ((dayOfMonth / 10) | 0),
      ZERO + (dayOfMonth % 10),
      84, // T
      ZERO + ((hour / 10) | 0),
      ZERO + (hour % 10),
      58, // :
      ZERO + ((minute / 10) | 0),
      ZERO + (minute % 10),
      58,
      ZERO + ((second / 10) | 0),
      ZERO + (second % 10),
      90, // Z
    );
  }

  /** civil_from_days, the inverse of daysFromCivil. */
  private setDay(days: number): void {
    const z = days + 719_468;
    const era = Math.floor(z / 146_097);
    const doe = z - era * 146_097;
    const yoe = Math.floor(
      (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
    );
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    this.day = days;
    this.dayOfMonth = doy - Math.floor((153 * mp + 2) / 5) + 1;
    this.month = mp < 10 ? mp + 3 : mp - 9;
    this.year = yoe + era * 400 + (this.month <= 2 ? 1 : 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Zone offsets. "Local wall-clock time → UTC" is the expensive, subtle part: luxon's own
// fromObject guesses from the offset in force *now*, so an ambiguous autumn hour would resolve
// differently depending on the season the import runs in. We resolve explicitly instead
// (earlier instant for ambiguous times, shift forward for times in a gap) and cache the result.
// ---------------------------------------------------------------------------------------------

/** Bounds keep memory flat however many years a file spans; clearing is simpler than LRU and rare. */
const MAX_DAY_ENTRIES = 50_000;
const MAX_HOUR_ENTRIES = 10_000;

interface ZoneCache {
  readonly zone: IANAZone;
  /** Local day number → the offset (seconds) in force all that day, or NaN when the offset changes that day. */
  readonly days: Map<number, number>;
  /** Local hour number → offset for each hour of a transition day, or NaN for the hour the change happens in. */
  readonly hours: Map<number, number>;
}

const zoneCaches = new Map<string, ZoneCache>();

function zoneCache(zone: string): ZoneCache {
  let cache = zoneCaches.get(zone);
  if (cache === undefined) {
    if (!isValidZone(zone)) {
      throw new ConfigError(`"${zone}" is not a known time zone: use an IANA name like Europe/Berlin or UTC`);
    }
    cache = { zone: IANAZone.create(zone), days: new Map(), hours: new Map() };
    zoneCaches.set(zone, cache);
  }
  return cache;
}

/** Offset in whole seconds at a UTC instant; luxon reports minutes, fractional for historic local mean times. */
function offsetAt(zone: IANAZone, epochSeconds: number): number {
  return Math.round(zone.offset(epochSeconds * 1000) * 60);
}

/**
 * The offset to subtract from a local wall-clock time (given as seconds "as if UTC") to get
 * the instant. Looking a day either side finds the offsets on both sides of any transition
 * near the value; a candidate is real only if the zone agrees with it at the instant it gives.
 */
function resolveOffset(zone: IANAZone, local: number): number {
  const before = offsetAt(zone, local - SECONDS_PER_DAY);
  const after = offsetAt(zone, local + SECONDS_PER_DAY);
  const beforeFits = offsetAt(zone, local - before) === before;
  if (before === after && beforeFits) return before;
  const afterFits = offsetAt(zone, local - after) === after;
  // Ambiguous (clocks went back): both fit; the larger offset gives the earlier instant.
  if (beforeFits && afterFits) return Math.max(before, after);
  if (beforeFits) return before;
  if (afterFits) return after;
  // In a gap (clocks went forward) neither fits. Reading the time with the offset from before
  // the change moves it forward by the gap's length, as luxon does: 02:30 becomes 03:30.
  return Math.min(before, after);
}

/**
 * resolveOffset for a whole span at once: the offset only changes at a transition, and any one
 * transition makes the offsets at the span's two ends differ (gap or overlap alike), so equal
 * ends mean the offset holds throughout. NaN when it doesn't.
 */
function spanOffset(zone: IANAZone, start: number, seconds: number): number {
  const first = resolveOffset(zone, start);
  return resolveOffset(zone, start + seconds - 1) === first ? first : Number.NaN;
}

function localToEpochSeconds(cache: ZoneCache, day: number, secondOfDay: number): number {
  let offset = cache.days.get(day);
  if (offset === undefined) {
    if (cache.days.size >= MAX_DAY_ENTRIES) cache.days.clear();
    offset = spanOffset(cache.zone, day * SECONDS_PER_DAY, SECONDS_PER_DAY);
    cache.days.set(day, offset);
  }
  const local = day * SECONDS_PER_DAY + secondOfDay;
  if (offset === offset) return local - offset; // not NaN: the usual case, no transition that day

  // Transition day (twice a year): narrow down to the hour, and only the hour of the change
  // itself is resolved per value.
  const hourKey = day * 24 + Math.floor(secondOfDay / 3600);
  let hourOffset = cache.hours.get(hourKey);
  if (hourOffset === undefined) {
    if (cache.hours.size >= MAX_HOUR_ENTRIES) cache.hours.clear();
    hourOffset = spanOffset(cache.zone, hourKey * 3600, 3600);
    cache.hours.set(hourKey, hourOffset);
  }
  return local - (hourOffset === hourOffset ? hourOffset : resolveOffset(cache.zone, local));
}

// ---------------------------------------------------------------------------------------------
// Format compilation.
// ---------------------------------------------------------------------------------------------

// Slots of the per-parser fields array.
const YEAR = 0;
const MONTH = 1;
const DAY = 2;
const HOUR = 3;
const MINUTE = 4;
const SECOND = 5;
/** Digits that are read and dropped (fractions of a second). */
const SKIP = -1;

const LITERAL = 0;
const DIGITS = 1;
const OPTIONAL = 2;

/**
 * One instruction of a compiled format. A single shape for all kinds keeps the interpreter's
 * property reads monomorphic.
 */
interface Step {
  readonly kind: typeof LITERAL | typeof DIGITS | typeof OPTIONAL;
  /** LITERAL: the accepted character, and a second accepted one (the same when there is none). */
  readonly code: number;
  readonly alt: number;
  /** DIGITS: the slot to store into, or SKIP; and how many digits. */
  readonly slot: number;
  readonly min: number;
  readonly max: number;
  /** OPTIONAL: index of the first step after the group. */
  end: number;
}

function literalStep(code: number, alt = code): Step {
  return { kind: LITERAL, code, alt, slot: SKIP, min: 0, max: 0, end: 0 };
}

function digitsStep(slot: number, min: number, max: number): Step {
  return { kind: DIGITS, code: 0, alt: 0, slot, min, max, end: 0 };
}

function optionalStep(): Step {
  return { kind: OPTIONAL, code: 0, alt: 0, slot: SKIP, min: 0, max: 0, end: 0 };
}

interface Program {
  readonly steps: readonly Step[];
  /** `yy`: the year slot holds 0–99, read as 2000 + yy. */
  readonly shortYear: boolean;
  /** False when the format has no year, month or day, so it can never name an instant. */
  readonly complete: boolean;
}

/**
 * `iso`: the date, then optionally `T` or a space and HH:mm, then optionally :ss, then optionally
 * a fraction of any length (Postgres writes microseconds).
 */
function isoProgram(): Program {
  const outer = optionalStep();
  const seconds = optionalStep();
  const fraction = optionalStep();
  const steps: Step[] = [
    digitsStep(YEAR, 4, 4),
    literalStep(45),
    digitsStep(MONTH, 2, 2),
    literalStep(45),
    digitsStep(DAY, 2, 2),
    outer,
    literalStep(84, 32), // T or space
    digitsStep(HOUR, 2, 2),
    literalStep(58),
    digitsStep(MINUTE, 2, 2),
    seconds,
    literalStep(58),
    digitsStep(SECOND, 2, 2),
    fraction,
    literalStep(46, 44), // . or ,
    digitsStep(SKIP, 1, Number.MAX_SAFE_INTEGER),
  ];
  outer.end = seconds.end = fraction.end = steps.length;
  return { steps, shortYear: false, complete: true };
}

const ISO_PROGRAM = isoProgram();

type Field = "year" | "shortYear" | "month" | "day" | "hour" | "minute" | "second" | "fraction";

interface Token {
  /** null for literal text. */
  readonly field: Field | null;
  /** Literal text, or the digit counts of a field. */
  readonly text: string;
  readonly min: number;
  readonly max: number;
}

/** Supported runs of pattern letters (luxon's meanings); other run lengths of these letters are rejected. */
const TOKENS: Readonly<Record<string, Token>> = {
  yyyy: { field: "year", text: "", min: 4, max: 4 },
  yy: { field: "shortYear", text: "", min: 2, max: 2 },
  MM: { field: "month", text: "", min: 2, max: 2 },
  M: { field: "month", text: "", min: 1, max: 2 },
  dd: { field: "day", text: "", min: 2, max: 2 },
  d: { field: "day", text: "", min: 1, max: 2 },
  HH: { field: "hour", text: "", min: 2, max: 2 },
  H: { field: "hour", text: "", min: 1, max: 2 },
  mm: { field: "minute", text: "", min: 2, max: 2 },
  m: { field: "minute", text: "", min: 1, max: 2 },
  ss: { field: "second", text: "", min: 2, max: 2 },
  s: { field: "second", text: "", min: 1, max: 2 },
  // Fractions are dropped, so any precision is accepted whatever the pattern says.
  S: { field: "fraction", text: "", min: 1, max: 9 },
  SS: { field: "fraction", text: "", min: 1, max: 9 },
  SSS: { field: "fraction", text: "", min: 1, max: 9 },
};

const SLOTS: Readonly<Record<Field, number>> = {
  year: YEAR,
  shortYear: YEAR,
  month: MONTH,
  day: DAY,
  hour: HOUR,
  minute: MINUTE,
  second: SECOND,
  fraction: SKIP,
};

const PATTERN_LETTERS = "yMdHmsS";

/** Splits a luxon-style pattern into tokens; text in single quotes is literal, `''` is an apostrophe. */
function tokenize(format: string): Token[] {
  const tokens: Token[] = [];
  const literal = (text: string): Token => ({ field: null, text, min: 0, max: 0 });
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c === "'") {
      const close = format.indexOf("'", i + 1);
      const end = close === -1 ? format.length : close;
      tokens.push(literal(close === i + 1 ? "'" : format.slice(i + 1, end)));
      i = end + 1;
    } else if (PATTERN_LETTERS.includes(c)) {
      let j = i + 1;
      while (format[j] === c) j++;
      const run = format.slice(i, j);
      const token = TOKENS[run];
      if (token === undefined) {
        // "MMM" (month names) and the like would otherwise silently match nothing, row after row.
        throw new ConfigError(
          `date format "${format}": "${run}" is not supported; use yyyy, yy, MM, M, dd, d, HH, H, mm, ss, SSS`,
        );
      }
      tokens.push(token);
      i = j;
    } else {
      tokens.push(literal(c));
      i++;
    }
  }
  return tokens;
}

const DATE_FIELDS: ReadonlySet<Field | null> = new Set<Field | null>(["year", "shortYear", "month", "day"]);

/**
 * Exports often drop the time ("01.03.2024" in a "dd.MM.yyyy HH:mm" column), so everything
 * after the date part — from the literal before the first time token — is an optional group,
 * and seconds and fractions nest as further optional groups so "10:00" also fits "HH:mm:ss".
 * Hours and minutes stay together: "01.03.2024 10" is more likely a broken cell than ten
 * o'clock. Literals after the last field ("Uhr") belong to the outer group.
 */
function compilePattern(format: string): Program {
  const tokens = tokenize(format);
  let lastDate = -1;
  let lastField = -1;
  tokens.forEach((t, i) => {
    if (DATE_FIELDS.has(t.field)) lastDate = i;
    if (t.field !== null) lastField = i;
  });
  const firstTime = lastDate === -1 ? -1 : tokens.findIndex((t, i) => i > lastDate && t.field !== null);

  // How many optional groups open before each token.
  const opens = tokens.map(() => 0);
  if (firstTime !== -1) {
    opens[lastDate + 1]! += 1;
    for (let i = firstTime + 1; i <= lastField; i++) {
      const field = tokens[i]!.field;
      if (field !== "second" && field !== "fraction") continue;
      let start = i; // back to the literals leading into it (":" in "mm:ss")
      while (tokens[start - 1]!.field === null) start--;
      opens[start]! += 1;
    }
  }

  const steps: Step[] = [];
  const open: Step[] = [];
  const seen = new Set<Field>();
  tokens.forEach((t, i) => {
    for (let n = 0; n < opens[i]!; n++) {
      const group = optionalStep();
      steps.push(group);
      open.push(group);
    }
    if (t.field === null) {
      for (let k = 0; k < t.text.length; k++) steps.push(literalStep(t.text.charCodeAt(k)));
    } else {
      steps.push(digitsStep(SLOTS[t.field], t.min, t.max));
      seen.add(t.field);
    }
    if (i === lastField) while (open.length > 1) open.pop()!.end = steps.length;
  });
  for (const group of open) group.end = steps.length;

  const year = seen.has("year") || seen.has("shortYear");
  return {
    steps,
    shortYear: seen.has("shortYear") && !seen.has("year"),
    complete: year && seen.has("month") && seen.has("day"),
  };
}

/**
 * Runs steps [from, to) against text[pos, end); the position after them, or -1 on a mismatch.
 * Optional groups are greedy and never revisited (a PEG, not a backtracking regex): fine for
 * date layouts, where what follows a group can't start like the group. The one consequence:
 * a variable-width token (M, d, H) directly followed by another digit token takes two digits
 * whenever it can.
 */
function run(
  steps: readonly Step[],
  from: number,
  to: number,
  text: string,
  pos: number,
  end: number,
  fields: Int32Array,
): number {
  let i = from;
  while (i < to) {
    const step = steps[i]!;
    if (step.kind === LITERAL) {
      if (pos >= end) return -1;
      const c = text.charCodeAt(pos);
      if (c !== step.code && c !== step.alt) return -1;
      pos++;
      i++;
    } else if (step.kind === DIGITS) {
      let value = 0;
      let count = 0;
      while (count < step.max && pos < end) {
        const digit = text.charCodeAt(pos) - ZERO;
        if (digit < 0 || digit > 9) break;
        value = value * 10 + digit;
        pos++;
        count++;
      }
      if (count < step.min) return -1;
      if (step.slot !== SKIP) fields[step.slot] = value;
      i++;
    } else {
      const after = run(steps, i + 1, step.end, text, pos, end, fields);
      if (after === -1) {
        // Forget what the failed group read: "10" of "10:x" must not become the hour.
        for (let j = i + 1; j < step.end; j++) {
          const slot = steps[j]!.slot;
          if (slot !== SKIP) fields[slot] = 0;
        }
      } else {
        pos = after;
      }
      i = step.end;
    }
  }
  return pos;
}

/** `\s` as a regex means it: ASCII whitespace and controls, and the Unicode spaces. */
function isSpace(c: number): boolean {
  return (
    c <= 32 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

function isDigit(text: string, pos: number): boolean {
  const c = text.charCodeAt(pos);
  return c >= ZERO && c <= ZERO + 9;
}

function twoDigits(text: string, pos: number): number {
  return (text.charCodeAt(pos) - ZERO) * 10 + text.charCodeAt(pos + 1) - ZERO;
}

/** Returned by readOffset for "no offset in the text". */
const NO_OFFSET = -1e9;

/**
 * The optional trailing UTC offset any format accepts: `Z`, `+03:00`, `+0300`, `-05`, with an
 * optional space before it because Shopify writes `2022-01-11 04:32:30 -0500`. Seconds east of
 * UTC, NO_OFFSET when there is none, NaN when the rest of the text isn't a valid offset.
 */
function readOffset(text: string, pos: number, end: number): number {
  if (pos === end) return NO_OFFSET;
  if (text.charCodeAt(pos) === 32) pos++;
  const c = text.charCodeAt(pos);
  if (c === 90 /* Z */ || c === 122 /* z */) return pos + 1 === end ? 0 : Number.NaN;
  if (
    (c !== 43 /* + */ && c !== 45) /* - */ ||
    pos + 3 > end ||
    !isDigit(text, pos + 1) ||
    !isDigit(text, pos + 2)
  ) {
    return Number.NaN;
  }
  const hours = twoDigits(text, pos + 1);
  let minutes = 0;
  pos += 3;
  if (pos < end) {
    if (text.charCodeAt(pos) === 58 /* : */) pos++;
    if (pos + 2 !== end || !isDigit(text, pos) || !isDigit(text, pos + 1)) return Number.NaN;
    minutes = twoDigits(text, pos);
  }
  if (hours > 23 || minutes > 59) return Number.NaN;
  const seconds = hours * 3600 + minutes * 60;
  return c === 45 ? -seconds : seconds;
}

export function makeDateParser(format: string, zone: string): DateParser {
  const cache = zoneCache(zone);
  const { steps, shortYear, complete } = format === "iso" ? ISO_PROGRAM : compilePattern(format);
  // A pattern without a year, month and day can't name a day, so it matches nothing; the error
  // message quoting the format tells the admin why every row fails.
  if (!complete) return () => null;
  // Reused across calls: the parser is synchronous, so one of each per parser is safe.
  const fields = new Int32Array(6);
  const writer = new IsoWriter();
  // The lines of one order share its timestamp, so the same text often comes several times in a row.
  let lastText = "";
  let lastResult: string | null = null;

  const parse = (text: string): string | null => {
    let start = 0;
    let end = text.length;
    while (start < end && isSpace(text.charCodeAt(start))) start++;
    while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
    // Six stores beat the fill() builtin call measurably at this call rate.
    fields[YEAR] = fields[MONTH] = fields[DAY] = fields[HOUR] = fields[MINUTE] = fields[SECOND] = 0;
    const pos = run(steps, 0, steps.length, text, start, end, fields);
    if (pos === -1) return null;
    const offset = readOffset(text, pos, end);
    if (offset !== offset) return null; // NaN: trailing text that isn't an offset

    const year = fields[YEAR]! + (shortYear ? 2000 : 0);
    const month = fields[MONTH]!;
    const day = fields[DAY]!;
    const hour = fields[HOUR]!;
    const minute = fields[MINUTE]!;
    const second = fields[SECOND]!;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
    if (hour > 23 || minute > 59 || second > 59) return null;

    const days = daysFromCivil(year, month, day);
    const secondOfDay = hour * 3600 + minute * 60 + second;
    if (offset !== NO_OFFSET) return writer.write(days * SECONDS_PER_DAY + secondOfDay - offset);
    return writer.write(localToEpochSeconds(cache, days, secondOfDay));
  };
  return (text) => {
    if (text !== lastText) {
      lastResult = parse(text);
      lastText = text;
    }
    return lastResult;
  };
}

export function describeDateFormat(format: string): string {
  return format === "iso"
    ? "an ISO date like 2024-03-01 or 2024-03-01 10:00:00"
    : `a date in format ${format}`;
}

export function isValidZone(zone: string): boolean {
  return zone !== "" && IANAZone.isValidZone(zone);
}

/** Formatters are costly to build (tens of microseconds) and reusable, so one per zone. */
const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (`YYYY-MM-DD`) a UTC instant falls on in a zone, e.g. to group orders by the shop's day. */
export function localDate(utcIso: string, zone: string): string {
  let formatter = dayFormatters.get(zone);
  if (formatter === undefined) {
    if (!isValidZone(zone)) throw new ConfigError(`"${zone}" is not a known time zone`);
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      calendar: "gregory",
      numberingSystem: "latn",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    dayFormatters.set(zone, formatter);
  }
  const date = new Date(utcIso);
  if (Number.isNaN(date.getTime())) throw new Error(`localDate: "${utcIso}" is not an ISO timestamp`);
  // formatToParts rather than format: locales' date layouts change between ICU versions.
  let year = "";
  let month = "";
  let day = "";
  for (const part of formatter.formatToParts(date)) {
    if (part.type === "year") year = part.value.padStart(4, "0");
    else if (part.type === "month") month = part.value;
    else if (part.type === "day") day = part.value;
  }
  return `${year}-${month}-${day}`;
}

/** The current time as stored in the database: UTC, whole seconds. */
export function nowIso(): string {
  return new Date().toISOString().slice(0, 19) + "Z";
}

/**
 * The UTC offset a timestamp was written with, in minutes east of UTC: what the export's own clock
 * said, kept so comeback can tell when it disagrees with the configured timezone. null when the text
 * has no offset or is not a date in `format`. The same grammar as makeDateParser, so exactly the
 * offsets that parser applied are reported.
 */
export function makeOffsetReader(format: string): (text: string) => number | null {
  const { steps, complete } = format === "iso" ? ISO_PROGRAM : compilePattern(format);
  if (!complete) return () => null;
  const fields = new Int32Array(6);
  let lastText = "";
  let lastResult: number | null = null;
  const read = (text: string): number | null => {
    let start = 0;
    let end = text.length;
    while (start < end && isSpace(text.charCodeAt(start))) start++;
    while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
    const pos = run(steps, 0, steps.length, text, start, end, fields);
    if (pos === -1) return null;
    const offset = readOffset(text, pos, end);
    return offset !== offset || offset === NO_OFFSET ? null : offset / 60;
  };
  return (text) => {
    if (text !== lastText) {
      lastResult = read(text);
      lastText = text;
    }
    return lastResult;
  };
}

/** `-05:00`, `+05:30`, `+00:00`: an offset in minutes east of UTC as ISO 8601 writes it. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  const hours = String(Math.floor(abs / 60)).padStart(2, "0");
  return `${sign}${hours}:${String(abs % 60).padStart(2, "0")}`;
}

/** `-05:00` → -300: formatOffset's inverse. */
export function parseOffset(text: string): number {
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(text);
  if (!match) throw new Error(`not an offset: "${text}"`);
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === "-" ? -minutes : minutes;
}
