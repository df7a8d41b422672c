/**
 * Typed errors. Core code throws these; only src/cli maps them to exit codes and prints them.
 * The exit codes follow sysexits(3), as documented in the README.
 */
export const ExitCode = {
  ok: 0,
  bug: 1,
  usage: 2,
  /** weekly stopped before sending a batch far bigger than usual; confirm with --confirm-surge. */
  surge: 3,
  dataError: 65,
  noInput: 66,
  unavailable: 69,
  /** The database file (or its folder) can't be created. */
  cantCreate: 73,
  /** The database can't be read or written: a full disk, a damaged file, a file that is no database. */
  ioError: 74,
  tempFail: 75,
  /** The database file or its folder is read-only for this user. */
  noPermission: 77,
  config: 78,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class AppError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input file can't be read as the profile says (exit 65). */
export class DataError extends AppError {
  constructor(message: string) {
    super(message, ExitCode.dataError);
  }
}

/** An input file is missing or unreadable (exit 66). */
export class InputMissingError extends AppError {
  constructor(message: string) {
    super(message, ExitCode.noInput);
  }
}

/** Bad configuration: a key, a value, an unknown profile (exit 78). */
export class ConfigError extends AppError {
  constructor(message: string) {
    super(message, ExitCode.config);
  }
}

/** Wrong usage of a command that commander itself can't see (exit 2). */
export class UsageError extends AppError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** Another run holds the lock (exit 75). */
export class LockedError extends AppError {
  constructor(message: string) {
    super(message, ExitCode.tempFail);
  }
}

/** A service comeback needs (the SMTP server) refused or could not be reached (exit 69). */
export class UnavailableError extends AppError {
  constructor(message: string) {
    super(message, ExitCode.unavailable);
  }
}

/**
 * `weekly` stopped before sending a batch far bigger than the shop's usual one (exit 3: outside the
 * sysexits range on purpose, it is no failure of input, service or config, but a question to a human).
 */
export class SurgeStoppedError extends AppError {
  constructor(message: string) {
    super(message, ExitCode.surge);
  }
}

/** The database file can't be created, read or written (exit 73, 74 or 77); see store/storage-errors.ts. */
export class StorageError extends AppError {
  constructor(
    message: string,
    exitCode: typeof ExitCode.cantCreate | typeof ExitCode.ioError | typeof ExitCode.noPermission,
  ) {
    super(message, exitCode);
  }
}
