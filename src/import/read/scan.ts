/**
 * The first pass over an input file, before any CSV parsing: one streaming read that hashes every byte,
 * refuses what is plainly not CSV (spreadsheets, archives, PDFs, binary data), and decides the encoding.
 */
import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import iconv from "iconv-lite";
import { AppError, ConfigError, DataError, InputMissingError } from "../../errors.js";

export interface FileScan {
  path: string;
  /** Hex SHA-256 of the whole file's bytes. */
  sha256: string;
  bytes: number;
  /** An iconv-lite encoding name: "utf-8", "utf-16le", "utf-16be", "windows-1251", "windows-1252", or what the profile set. */
  encoding: string;
  /** Bytes of byte-order mark to skip (0, 2 or 3). */
  bomLength: number;
  /** False when the profile named the encoding. */
  encodingDetected: boolean;
}

/** Read size: large reads keep the per-chunk overhead negligible. */
const CHUNK_SIZE = 1024 * 1024;
/** How much of the start of the file the "is this CSV at all" checks look at. */
const HEAD_SIZE = 8 * 1024;
/** How many bytes the single-byte code page statistics look at, from where UTF-8 first fails. */
const SAMPLE_SIZE = 4 * 1024 * 1024;

const BOM_UTF8 = [0xef, 0xbb, 0xbf];
const BOM_UTF16LE = [0xff, 0xfe];
const BOM_UTF16BE = [0xfe, 0xff];

const EXPORT_AS_CSV = "export it as CSV (in Excel: File → Save As → CSV UTF-8)";

/** Hash the file, refuse what is not CSV, and decide its encoding; `encodingSetting` is "auto" or an encoding name. */
export async function scanFile(path: string, encodingSetting: string): Promise<FileScan> {
  const explicit = parseEncodingSetting(encodingSetting);
  const hash = createHash("sha256");
  let bytes = 0;
  let head: Buffer[] = [];
  let headLength = 0;
  let plan: HeadPlan | undefined;
  let utf8: Utf8Check | undefined;

  const startBody = (complete: boolean): void => {
    const buf = head.length === 1 ? head[0]! : Buffer.concat(head);
    plan = inspectHead(path, buf, complete, explicit);
    if (plan.checkUtf8) {
      utf8 = new Utf8Check();
      for (const chunk of head) utf8.push(chunk);
    }
    head = [];
  };

  try {
    const stream = createReadStream(path, { highWaterMark: CHUNK_SIZE });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (plan === undefined) {
        head.push(chunk);
        headLength += chunk.length;
        if (headLength >= HEAD_SIZE) startBody(false);
      } else if (utf8 !== undefined) {
        utf8.push(chunk);
      }
    }
    if (plan === undefined) startBody(true);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw inputError(path, err);
  }

  const decided = plan!;
  let encoding = decided.encoding;
  if (utf8 !== undefined) encoding = utf8.finish();
  return {
    path,
    sha256: hash.digest("hex"),
    bytes,
    encoding,
    bomLength: decided.bomLength,
    encodingDetected: explicit === null,
  };
}

/** What the first bytes decided; `checkUtf8` means the rest of the file must still be checked for UTF-8. */
interface HeadPlan {
  encoding: string;
  bomLength: number;
  checkUtf8: boolean;
}

/** "auto" → null; otherwise the encoding name as given, after checking iconv-lite knows it. */
function parseEncodingSetting(setting: string): string | null {
  const name = setting.trim();
  if (name.toLowerCase() === "auto") return null;
  if (name === "" || !iconv.encodingExists(name)) {
    throw new ConfigError(
      `unknown encoding "${setting}": use "auto" or an encoding name such as utf-8, utf-16le, utf-16be, ` +
        `windows-1251, windows-1252 or iso-8859-1`,
    );
  }
  return name;
}

/** iconv-lite's canonical form of an encoding name: lower case, letters and digits only. */
function canonical(name: string): string {
  return name.toLowerCase().replace(/[^0-9a-z]/g, "");
}

function startsWith(buf: Buffer, prefix: readonly number[]): boolean {
  if (buf.length < prefix.length) return false;
  return prefix.every((b, i) => buf[i] === b);
}

function isOnly(buf: Buffer, prefix: readonly number[]): boolean {
  return buf.length === prefix.length && startsWith(buf, prefix);
}

function inspectHead(path: string, whole: Buffer, complete: boolean, explicit: string | null): HeadPlan {
  if (
    complete &&
    (whole.length === 0 || [BOM_UTF8, BOM_UTF16LE, BOM_UTF16BE].some((b) => isOnly(whole, b)))
  ) {
    const what = whole.length === 0 ? "0 bytes" : "nothing but a byte-order mark";
    throw new DataError(`${path} is empty (${what}): export the data again from your shop system`);
  }
  refuseKnownFormats(path, whole);

  const head = whole.subarray(0, HEAD_SIZE);
  const utf16Bom = startsWith(head, BOM_UTF16LE) || startsWith(head, BOM_UTF16BE);

  if (explicit !== null) {
    const c = canonical(explicit);
    const wide = /^(utf16|utf32|ucs2|ucs4)/.test(c);
    if (!wide && head.includes(0)) {
      const looks = utf16Bom ? (startsWith(head, BOM_UTF16LE) ? "utf-16le" : "utf-16be") : utf16Pattern(head);
      if (looks !== null) {
        throw new DataError(
          `${path} looks like ${looks.toUpperCase()} text, but the profile sets encoding "${explicit}": ` +
            `set the encoding to ${looks} or auto`,
        );
      }
      throw binaryError(path);
    }
    return {
      encoding: explicitEncoding(explicit, c, head),
      bomLength: explicitBom(c, head),
      checkUtf8: false,
    };
  }

  if (startsWith(head, BOM_UTF8)) return { encoding: "utf-8", bomLength: 3, checkUtf8: false };
  if (startsWith(head, BOM_UTF16LE)) return { encoding: "utf-16le", bomLength: 2, checkUtf8: false };
  if (startsWith(head, BOM_UTF16BE)) return { encoding: "utf-16be", bomLength: 2, checkUtf8: false };
  if (head.includes(0)) {
    const looks = utf16Pattern(head);
    if (looks === null) throw binaryError(path);
    return { encoding: looks, bomLength: 0, checkUtf8: false };
  }
  return { encoding: "utf-8", bomLength: 0, checkUtf8: true };
}

/** A profile's "utf-16" (endianness from the BOM) is resolved by the BOM when there is one, since the BOM is skipped. */
function explicitEncoding(explicit: string, c: string, head: Buffer): string {
  if (c === "utf16") {
    if (startsWith(head, BOM_UTF16LE)) return "utf-16le";
    if (startsWith(head, BOM_UTF16BE)) return "utf-16be";
  }
  return explicit;
}

function explicitBom(c: string, head: Buffer): number {
  if ((c === "utf8" || c === "unicode11utf8" || c === "cesu8") && startsWith(head, BOM_UTF8)) return 3;
  if ((c === "utf16le" || c === "ucs2" || c === "utf16") && startsWith(head, BOM_UTF16LE)) return 2;
  if ((c === "utf16be" || c === "utf16") && startsWith(head, BOM_UTF16BE)) return 2;
  return 0;
}

function refuseKnownFormats(path: string, head: Buffer): void {
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) {
    throw new DataError(`${path} looks like an Excel .xlsx or a zip archive, not CSV: ${EXPORT_AS_CSV}`);
  }
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0])) {
    throw new DataError(`${path} looks like an old Excel .xls file (OLE), not CSV: ${EXPORT_AS_CSV}`);
  }
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46])) {
    throw new DataError(
      `${path} is a PDF document, not CSV: export the data from your shop system as CSV instead`,
    );
  }
  if (startsWith(head, [0x1f, 0x8b])) {
    const target = path.endsWith(".gz")
      ? shellQuote(path)
      : `-c ${shellQuote(path)} > ${shellQuote(`${path}.csv`)}`;
    throw new DataError(`${path} is compressed with gzip: unpack it first (gunzip ${target})`);
  }
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function binaryError(path: string): DataError {
  return new DataError(
    `${path} contains NUL bytes, so it looks like a binary file, not CSV text: ` +
      `export the data from your shop system as CSV`,
  );
}

/**
 * BOM-less UTF-16: text that is mostly ASCII has a NUL in every other byte (at odd offsets in UTF-16LE,
 * at even offsets in UTF-16BE), and almost none on the other side. Binary data has NULs scattered on both.
 */
function utf16Pattern(head: Buffer): "utf-16le" | "utf-16be" | null {
  const units = head.length >> 1;
  if (units === 0) return null;
  let even = 0;
  let odd = 0;
  for (let i = 0; i + 1 < head.length; i += 2) {
    if (head[i] === 0) even++;
    if (head[i + 1] === 0) odd++;
  }
  // At least a quarter of the code units must be ASCII-ish, and the other side nearly NUL-free
  // (a few U+0000 or U+xx00 characters are tolerated).
  if (odd * 4 >= units && even * 50 <= odd) return "utf-16le";
  if (even * 4 >= units && odd * 50 <= even) return "utf-16be";
  return null;
}

function inputError(path: string, err: unknown): InputMissingError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, string> = {
    ENOENT: "file not found",
    ENOTDIR: "file not found (a part of the path is not a directory)",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EISDIR: "is a directory",
  };
  const reason =
    (code !== undefined ? reasons[code] : undefined) ?? (err instanceof Error ? err.message : String(err));
  return new InputMissingError(`cannot read ${path}: ${reason}`);
}

/**
 * Streaming UTF-8 validity. A multi-byte sequence cut by a chunk boundary is carried over to the next chunk.
 * Once the data is known not to be UTF-8, the following bytes (a bounded sample) feed the code page statistics.
 */
class Utf8Check {
  private valid = true;
  private carry: Buffer | null = null;
  private last: Buffer | null = null;
  private readonly stats = new CodePageStats();

  push(chunk: Buffer): void {
    if (!this.valid) {
      this.stats.feed(chunk);
      return;
    }
    const data = this.carry === null ? chunk : Buffer.concat([this.carry, chunk]);
    const cut = completeLength(data);
    if (!isUtf8(data.subarray(0, cut))) {
      this.valid = false;
      this.carry = null;
      this.stats.feed(data);
      return;
    }
    this.carry = cut < data.length ? Buffer.from(data.subarray(cut)) : null;
    this.last = data;
  }

  finish(): string {
    if (this.valid && this.carry !== null) {
      // The file ends inside a multi-byte sequence: not valid UTF-8.
      this.valid = false;
      if (this.last !== null) this.stats.feed(this.last);
    }
    return this.valid ? "utf-8" : this.stats.decide();
  }
}

/** The length of `data` without an incomplete UTF-8 sequence at its end (which is at most 3 bytes long). */
function completeLength(data: Buffer): number {
  const n = data.length;
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const b = data[i]!;
    if (b < 0x80) return n; // ASCII: nothing is cut
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return n - i < need ? i : n;
    }
    // a continuation byte: keep looking for the lead byte
  }
  return n;
}

/**
 * Windows-1251 (Cyrillic) or Windows-1252 (Western European)? In Cyrillic text the letters are bytes
 * 0xC0–0xFF (plus Ё/ё 0xA8/0xB8 and the Ukrainian/Belarusian letters), and they come in runs: whole words.
 * In Western European text the same bytes are accented letters, one or two at a time between ASCII letters
 * (Müller, Straße, Größe, Société). Each run of such bytes votes:
 *   - 3 or more in a row: Cyrillic (a Western word with three accented letters in a row is vanishingly rare);
 *   - 1 or 2 touching an ASCII letter: Western (Russian words don't touch Latin letters);
 *   - 2 standing alone: Cyrillic (на, по, не, Ян);
 *   - 1 standing alone: no vote (Russian "в", French "à").
 */
class CodePageStats {
  private cyrillic = 0;
  private western = 0;
  private sampled = 0;
  private run = 0;
  private runAfterLetter = false;
  private prevLetter = false;

  feed(buf: Buffer): void {
    const room = SAMPLE_SIZE - this.sampled;
    if (room <= 0) return;
    const part = buf.length > room ? buf.subarray(0, room) : buf;
    this.sampled += part.length;
    for (let i = 0; i < part.length; i++) {
      const b = part[i]!;
      if (CYRILLIC_LETTER[b] === 1) {
        if (this.run === 0) this.runAfterLetter = this.prevLetter;
        this.run++;
        this.prevLetter = false;
      } else {
        const asciiLetter = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
        this.closeRun(asciiLetter);
        this.prevLetter = asciiLetter;
      }
    }
  }

  private closeRun(nextIsLetter: boolean): void {
    if (this.run === 0) return;
    const touching = this.runAfterLetter || nextIsLetter;
    if (this.run >= 3) this.cyrillic++;
    else if (touching) this.western++;
    else if (this.run === 2) this.cyrillic++;
    this.run = 0;
  }

  decide(): string {
    this.closeRun(false);
    return this.cyrillic > this.western ? "windows-1251" : "windows-1252";
  }
}

/** Bytes that are letters in Windows-1251: А–я, Ё ё, and Ґ ґ Є є І і Ї ї. */
const CYRILLIC_LETTER = (() => {
  const table = new Uint8Array(256);
  for (let b = 0xc0; b <= 0xff; b++) table[b] = 1;
  for (const b of [0xa8, 0xb8, 0xa5, 0xb4, 0xaa, 0xba, 0xb2, 0xb3, 0xaf, 0xbf]) table[b] = 1;
  return table;
})();
