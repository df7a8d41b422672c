/**
 * Reading typed values out of one CSV row, collecting every problem with the header it came from,
 * so one pass tells the admin all that is wrong with a row, not just the first thing.
 */
import { describeDateFormat, makeDateParser } from "../../time.js";
import { decimalToMinor, isCurrencyCode, lineTotalMinor, minorDigits } from "../../money.js";
import { CUSTOMER_FIELDS } from "../fields.js";
import type { ColumnIndex, Profile } from "../profiles.js";
import type { CustomerFields, RowProblem } from "../records.js";
import {
  cleanCell,
  isBooleanText,
  looksLikeEmail,
  makeNumberParser,
  parseBoolean,
  phoneDigits,
} from "./values.js";

/** Placeholders shops write for "no value" in contact columns: read as empty rather than as an error. */
const PLACEHOLDERS = new Set(["-", "—", "–", "n/a", "na", "none", "null", "нет", "keine", "k.a.", "—"]);

export class RowReader {
  private readonly parseNumber: (text: string) => string | null;
  private readonly parseDate: (text: string) => string | null;
  private readonly dateDescription: string;
  private readonly locales = new Map<string, string | null>();
  private readonly customerColumns: number[];
  /**
   * The last customer read without a problem, and the cells it was read from. Exports repeat the
   * customer on every line of an order, and reading it (email, phone, names) is a third of a row's work.
   */
  private lastCustomer: { cells: (string | undefined)[]; fields: CustomerFields | null } | null = null;
  /** The same for dates: the lines of an order repeat its time. */
  private lastDate = { text: "", parsed: "" };
  cells: string[] = [];
  line = 0;
  problems: RowProblem[] = [];

  constructor(
    readonly profile: Profile,
    private readonly index: ColumnIndex,
    private readonly headers: readonly string[],
  ) {
    this.parseNumber = makeNumberParser(profile.decimalSeparator);
    this.parseDate = makeDateParser(profile.dateFormat, profile.timezone);
    this.dateDescription = describeDateFormat(profile.dateFormat);
    // The fields of a customers file are the ones `customer()` reads: a row whose cells for them
    // repeat the last row's gives the same customer.
    this.customerColumns = CUSTOMER_FIELDS.flatMap((field) => index[field] ?? []);
  }

  start(cells: string[], line: number): void {
    this.cells = cells;
    this.line = line;
    this.problems = [];
  }

  has(field: string): boolean {
    return this.index[field] !== undefined;
  }

  /** The header a field was read from (the first mapped one present), for messages. */
  header(field: string): string {
    const columns = this.index[field];
    return columns ? (this.headers[columns[0]!] ?? field) : field;
  }

  private problem(field: string | null, message: string): null {
    this.problems.push({ line: this.line, column: field === null ? null : this.header(field), message });
    return null;
  }

  /** The first non-empty cell among the columns mapped to `field`, cleaned of spreadsheet artefacts; "" if none. */
  text(field: string): string {
    const columns = this.index[field];
    if (!columns) return "";
    for (const column of columns) {
      const raw = this.cells[column];
      if (raw !== undefined && raw !== "") {
        const value = cleanCell(raw);
        if (value !== "") return value;
      }
    }
    return "";
  }

  optionalText(field: string): string | null {
    const value = this.text(field);
    return value === "" ? null : value;
  }

  requiredText(field: string): string | null {
    const value = this.text(field);
    if (value === "") return this.problem(field, "is empty, expected a value");
    return value;
  }

  /** A decimal as a canonical string ("-12.5"), or null when empty; a non-number is a problem. */
  decimal(field: string): string | null {
    const value = this.text(field);
    if (value === "") return null;
    const parsed = this.parseNumber(value);
    if (parsed === null) {
      const separator =
        this.profile.decimalSeparator === "," ? "a decimal comma (12,50)" : "a decimal point (12.50)";
      return this.problem(field, `"${value}" is not a number with ${separator}`);
    }
    return parsed;
  }

  number(field: string, options: { positive?: boolean } = {}): number | null {
    const decimal = this.decimal(field);
    if (decimal === null) return null;
    const value = Number(decimal);
    if (options.positive && !(value > 0))
      return this.problem(field, `"${this.text(field)}" must be greater than 0`);
    return value;
  }

  money(field: string, currency: string): number | null {
    const decimal = this.decimal(field);
    return decimal === null ? null : decimalToMinor(decimal, minorDigits(currency));
  }

  lineTotal(quantity: number, unitField: string, currency: string): number | null {
    const decimal = this.decimal(unitField);
    return decimal === null ? null : lineTotalMinor(quantity, decimal, minorDigits(currency));
  }

  date(field: string): string | null {
    const value = this.text(field);
    if (value === "") return null;
    if (value === this.lastDate.text) return this.lastDate.parsed;
    const parsed = this.parseDate(value);
    if (parsed === null) return this.problem(field, `"${value}" is not ${this.dateDescription}`);
    this.lastDate = { text: value, parsed };
    return parsed;
  }

  currency(field: string): string | null {
    const value = this.text(field).toUpperCase();
    if (value === "") return null;
    return isCurrencyCode(value)
      ? value
      : this.problem(field, `"${value}" is not an ISO currency code like EUR`);
  }

  boolean(field: string): boolean | null {
    const value = this.text(field);
    if (value === "") return null;
    if (!isBooleanText(value)) return this.problem(field, `"${value}" is not yes or no`);
    return parseBoolean(value);
  }

  private contact(field: string): string | null {
    const value = this.text(field);
    return value === "" || PLACEHOLDERS.has(value.toLowerCase()) ? null : value;
  }

  customer(): CustomerFields | null {
    const last = this.lastCustomer;
    if (last !== null && this.customerColumns.every((column, i) => this.cells[column] === last.cells[i]))
      return last.fields;
    const problemsBefore = this.problems.length;
    const fields = this.readCustomer();
    if (this.problems.length === problemsBefore) {
      this.lastCustomer = { cells: this.customerColumns.map((column) => this.cells[column]), fields };
    }
    return fields;
  }

  private readCustomer(): CustomerFields | null {
    const customerId = this.customerId();
    const emailText = this.contact("email");
    let email: string | null = null;
    if (emailText !== null) {
      if (looksLikeEmail(emailText)) email = emailText.toLowerCase();
      else this.problem("email", `"${emailText}" is not an email address`);
    }
    const phoneText = this.contact("phone");
    let phone: string | null = null;
    if (phoneText !== null) {
      phone = phoneDigits(phoneText);
      if (phone === null) this.problem("phone", `"${phoneText}" is not a phone number`);
    }
    const firstName = this.optionalText("first_name");
    const lastName = this.optionalText("last_name");
    const fullName = this.optionalText("customer_name");
    const name = fullName ?? ([firstName, lastName].filter(Boolean).join(" ") || null);
    const fields: CustomerFields = {
      customerId,
      email,
      emailDisplay: email === null ? null : emailText,
      phone,
      firstName,
      lastName,
      name,
      acceptsMarketing: this.boolean("accepts_marketing"),
      locale: this.locale(),
      usageFactor: this.number("usage_factor", { positive: true }),
    };
    return customerId === null && email === null && phone === null ? null : fields;
  }

  /** Spreadsheets turn numeric ids into floats ("17850.0"): the id is the integer. */
  private customerId(): string | null {
    const value = this.text("customer_id");
    if (value === "") return null;
    return /^\d+\.0+$/.test(value) ? value.slice(0, value.indexOf(".")) : value;
  }

  private locale(): string | null {
    const value = this.text("locale");
    if (value === "") return null;
    let canonical = this.locales.get(value);
    if (canonical === undefined) {
      try {
        canonical = Intl.getCanonicalLocales(value.replace("_", "-"))[0] ?? null;
      } catch {
        canonical = null;
      }
      // A file has few distinct locales: remember them (bounded, in case a column holds junk).
      if (this.locales.size < 1000) this.locales.set(value, canonical);
    }
    return canonical ?? this.problem("locale", `"${value}" is not a language tag like en, de or ru-RU`);
  }
}

export function describeProblems(problems: RowProblem[]): string {
  return problems
    .map((p) => (p.column === null ? p.message : `column "${p.column}": ${p.message}`))
    .join("; ");
}
