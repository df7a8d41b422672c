/**
 * Reading typed values out of one CSV row, collecting every problem with the header it came from,
 * so one pass tells the admin all that is wrong with a row, not just the first thing.
 */
import { DataError } from "../../errors.js";
import { describeDateFormat, makeDateParser } from "../../time.js";
import { decimalToMinor, isCurrencyCode, lineTotalMinor, minorDigits } from "../../money.js";
import { CUSTOMER_FIELDS } from "../fields.js";
import type { ColumnIndex, Profile } from "../profiles.js";
import type { CustomerFields, RowProblem } from "../records.js";
import {
  cleanCell,
  describeShape,
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
   * The last customer read without a problem, the cells it was read from, and what was wrong with
   * cells it could do without. Exports repeat the customer on every line of an order, and reading it
   * (email, phone, names) is a third of a row's work.
   */
  private lastCustomer: {
    cells: (string | undefined)[];
    fields: CustomerFields | null;
    warnings: Omit<RowProblem, "line">[];
    headers: IdentityHeaders;
  } | null = null;
  /** The column the last text() call took its value from, so a message names the header the value sat in. */
  private lastField = "";
  private lastColumn = -1;
  /** The same for dates: the lines of an order repeat its time. */
  private lastDate = { text: "", parsed: "" };
  cells: string[] = [];
  line = 0;
  /** What keeps the row out: a cell it cannot be without that does not parse. */
  problems: RowProblem[] = [];
  /** Cells the row can do without that do not parse: read as empty, the row is kept. */
  warnings: RowProblem[] = [];
  /** The headers the customer's id and email came from in the last customer() call. */
  identityHeaders: IdentityHeaders = NO_IDENTITY_HEADERS;

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
    if (this.warnings.length > 0) this.warnings = [];
  }

  has(field: string): boolean {
    return this.index[field] !== undefined;
  }

  /**
   * The header a field was read from, for messages: the column its value came from when the field was
   * the last one read (a profile may map a field to several headers, "Phone", "Billing Phone",
   * "Shipping Phone", and the first non-empty wins), else the first mapped one present.
   */
  header(field: string): string {
    if (field === this.lastField && this.lastColumn >= 0) return this.headers[this.lastColumn] ?? field;
    const columns = this.index[field];
    return columns ? (this.headers[columns[0]!] ?? field) : field;
  }

  private problem(field: string | null, message: string): null {
    this.problems.push({ line: this.line, column: field === null ? null : this.header(field), message });
    return null;
  }

  /**
   * A cell the row can do without that does not parse: the field is read as empty and the row kept.
   * The message gives the value's shape, never the value: these cells are phones, emails, names.
   */
  private warning(field: string, value: string, expected: string): null {
    this.warnings.push({
      line: this.line,
      column: this.header(field),
      message: `${describeShape(value)}, not ${expected}: read as empty`,
    });
    return null;
  }

  /** The first non-empty cell among the columns mapped to `field`, cleaned of spreadsheet artefacts; "" if none. */
  text(field: string): string {
    const columns = this.index[field];
    this.lastField = field;
    this.lastColumn = -1;
    if (!columns) return "";
    for (const column of columns) {
      const raw = this.cells[column];
      if (raw !== undefined && raw !== "") {
        const value = cleanCell(raw);
        if (value !== "") {
          this.lastColumn = column;
          return value;
        }
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
    return decimal === null ? null : this.exact(field, () => decimalToMinor(decimal, minorDigits(currency)));
  }

  lineTotal(quantity: number, unitField: string, currency: string): number | null {
    const decimal = this.decimal(unitField);
    return decimal === null
      ? null
      : this.exact(unitField, () => lineTotalMinor(quantity, decimal, minorDigits(currency)));
  }

  /** An amount too large to store exactly (past 2^53 minor units) is this cell's problem, at its line. */
  private exact(field: string, compute: () => number): number | null {
    try {
      return compute();
    } catch (error) {
      if (error instanceof DataError) return this.problem(field, error.message);
      throw error;
    }
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

  /** A yes/no a row can do without (a marketing flag): anything else is a warning and read as empty. */
  optionalBoolean(field: string): boolean | null {
    const value = this.text(field);
    if (value === "") return null;
    if (!isBooleanText(value)) return this.warning(field, value, "yes or no");
    return parseBoolean(value);
  }

  private contact(field: string): string | null {
    const value = this.text(field);
    return value === "" || PLACEHOLDERS.has(value.toLowerCase()) ? null : value;
  }

  /**
   * The customer of the row. Every field of it is one an order (or a customers row) can do without:
   * a cell that does not parse is a warning and read as empty, so an odd phone never costs an order.
   */
  customer(): CustomerFields | null {
    const last = this.lastCustomer;
    if (last !== null && this.customerColumns.every((column, i) => this.cells[column] === last.cells[i])) {
      for (const warning of last.warnings) this.warnings.push({ line: this.line, ...warning });
      this.identityHeaders = last.headers;
      return last.fields;
    }
    const problemsBefore = this.problems.length;
    const warningsBefore = this.warnings.length;
    const fields = this.readCustomer();
    if (this.problems.length === problemsBefore) {
      this.lastCustomer = {
        cells: this.customerColumns.map((column) => this.cells[column]),
        fields,
        warnings:
          this.warnings.length === warningsBefore
            ? NO_WARNINGS
            : this.warnings.slice(warningsBefore).map(({ column, message }) => ({ column, message })),
        headers: this.identityHeaders,
      };
    }
    return fields;
  }

  private readCustomer(): CustomerFields | null {
    const customerId = this.customerId();
    const customerIdHeader = customerId === null ? null : this.header("customer_id");
    const emailText = this.contact("email");
    let email: string | null = null;
    let emailHeader: string | null = null;
    if (emailText !== null) {
      if (looksLikeEmail(emailText)) {
        email = emailText.toLowerCase();
        emailHeader = this.header("email");
      } else this.warning("email", emailText, "an email address");
    }
    this.identityHeaders =
      customerIdHeader === null && emailHeader === null
        ? NO_IDENTITY_HEADERS
        : { customerId: customerIdHeader, email: emailHeader };
    const phoneText = this.contact("phone");
    let phone: string | null = null;
    if (phoneText !== null) {
      phone = phoneDigits(phoneText);
      if (phone === null) this.warning("phone", phoneText, "a phone number");
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
      acceptsMarketing: this.optionalBoolean("accepts_marketing"),
      locale: this.locale(),
      usageFactor: this.usageFactor(),
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
    return canonical ?? this.warning("locale", value, "a language tag like en, de or ru-RU");
  }

  /** How much faster than most this customer uses things up: a customer-level field, so a warning when odd. */
  private usageFactor(): number | null {
    const value = this.text("usage_factor");
    if (value === "") return null;
    const parsed = this.parseNumber(value);
    if (parsed === null || !(Number(parsed) > 0))
      return this.warning("usage_factor", value, "a number greater than 0");
    return Number(parsed);
  }
}

/** Where an order's customer came from, to name both columns when two lines of one order disagree. */
export interface IdentityHeaders {
  customerId: string | null;
  email: string | null;
}
const NO_IDENTITY_HEADERS: IdentityHeaders = { customerId: null, email: null };
const NO_WARNINGS: Omit<RowProblem, "line">[] = [];

export function describeProblems(problems: RowProblem[]): string {
  return problems
    .map((p) => (p.column === null ? p.message : `column "${p.column}": ${p.message}`))
    .join("; ");
}
