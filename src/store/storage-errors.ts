/**
 * What went wrong with the database file, in the admin's words, with the sysexits code that says
 * which kind of fault it is: 73 the file can't be created, 74 it can't be read or written (a full
 * disk, a damaged file, a file that is no database), 77 it or its folder is read-only for this user.
 * SQLite says "unable to open database file" or "database disk image is malformed"; the admin needs
 * the file's path and what to do.
 */
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { ExitCode, StorageError } from "../errors.js";

/** The first 16 bytes of every SQLite 3 database file (https://www.sqlite.org/fileformat.html). */
const SQLITE_HEADER = Buffer.from("SQLite format 3\u0000", "latin1");

/**
 * Refuses an existing file that is not a SQLite database before SQLite sees it: SQLite would take a
 * 0-byte file for a new, empty database and silently start afresh where the shop's data should be.
 */
export function checkDatabaseFile(file: string): void {
  let size: number;
  try {
    const stats = statSync(file);
    if (!stats.isFile()) {
      throw new StorageError(
        `the database ${file} is not a file: set database: in the config to a file's path`,
        ExitCode.cantCreate,
      );
    }
    size = stats.size;
  } catch (error) {
    if (error instanceof StorageError) throw error;
    return; // absent: SQLite creates it (or says why it can't)
  }
  if (size === 0) {
    throw new StorageError(
      `the database ${file} is an empty file (0 bytes), not a comeback database: if it should hold your ` +
        "data, restore it from a backup; to start a new database, delete the empty file",
      ExitCode.ioError,
    );
  }
  const head = Buffer.alloc(SQLITE_HEADER.length);
  let read = 0;
  try {
    const fd = openSync(file, "r");
    try {
      read = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw storageErrorFrom(error, file) ?? error;
  }
  if (read < head.length || !head.equals(SQLITE_HEADER)) throw notADatabase(file);
}

function notADatabase(file: string): StorageError {
  return new StorageError(
    `${file} is not a SQLite database: check that database: in the config names the right file; ` +
      "to start a new database, move that file away (comeback changed nothing)",
    ExitCode.ioError,
  );
}

/**
 * The StorageError for an error SQLite or the file system raised about the database `file`, or null
 * when it is no storage fault (SQLITE_BUSY is a lock, handled apart; a constraint is a bug).
 */
export function storageErrorFrom(error: unknown, file: string): StorageError | null {
  if (error instanceof StorageError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return null;
  const detail = error instanceof Error ? error.message : String(error);
  const wal = `${basename(file)}-wal and ${basename(file)}-shm`;
  const readOnly = () =>
    new StorageError(
      `can't write the database ${file}: ${readOnlyPart(file)} read-only for this user (${detail}). ` +
        `comeback writes the file and, beside it, ${wal}: give the user that runs comeback write access ` +
        "to the file and its folder, or set database: in the config to a writable place",
      ExitCode.noPermission,
    );
  const cantCreate = () =>
    new StorageError(
      `can't create the database ${file} (${detail}): create the folder ${dirname(file)} and make it ` +
        "writable for the user that runs comeback, or set database: in the config to a writable place",
      ExitCode.cantCreate,
    );
  const ioError = (what: string) => new StorageError(`the database ${file} ${what}`, ExitCode.ioError);

  if (code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT" || code === "SQLITE_IOERR_NOMEM") {
    return ioError(
      "can't grow: the disk (or the user's quota) is full. What the command was writing was rolled " +
        "back; free some space (or move the database to a bigger disk), then run it again",
    );
  }
  if (code === "SQLITE_NOTADB") return notADatabase(file);
  if (code.startsWith("SQLITE_CORRUPT")) {
    return ioError(
      `is damaged (SQLite: "${detail}"): restore it from a backup, or move it away and import your ` +
        "exports again into a new one. Check the disk too: a damaged file often means a failing one",
    );
  }
  if (code.startsWith("SQLITE_READONLY") || code === "SQLITE_PERM" || code === "SQLITE_AUTH")
    return readOnly();
  if (code === "EACCES" || code === "EPERM" || code === "EROFS")
    return existsSync(file) ? readOnly() : cantCreate();
  if (code.startsWith("SQLITE_CANTOPEN") || code === "ENOENT" || code === "ENOTDIR") {
    if (!existsSync(file)) return cantCreate();
    return isWritable(file) && isWritable(dirname(file))
      ? ioError(`can't be opened (${detail}): check the disk and the file system, then run again`)
      : readOnly();
  }
  if (code.startsWith("SQLITE_IOERR") || code === "EIO") {
    return ioError(
      `could not be read or written (${detail}): check the disk and the file system, then run again`,
    );
  }
  return null;
}

/** Which of the file and its folder the user can't write, with its verb: "the file is", … */
function readOnlyPart(file: string): string {
  const fileOk = !existsSync(file) || isWritable(file);
  const folderOk = isWritable(dirname(file));
  if (!fileOk && !folderOk) return "the file and its folder are";
  if (!fileOk) return "the file is";
  if (!folderOk) return `its folder ${dirname(file)} is`;
  return "the file or its folder is";
}

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
