/**
 * Failures of the local disk or of SQLite's file locking, as opposed to a bad request or a bug. better-sqlite3 throws
 * a `SqliteError` with the extended result code in `code` (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`, `SQLITE_BUSY`, …);
 * Node's fs throws errno codes (`ENOSPC`). Wrapping errors keep the original in `cause`, so the chain is searched.
 */
export type StorageFault = 'disk' | 'busy';

const DISK_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

function faultOfCode(code: string): StorageFault | undefined {
  if (DISK_CODES.has(code) || code.startsWith('SQLITE_IOERR')) return 'disk';
  // The busy timeout ran out: another connection held the write lock for longer.
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  return undefined;
}

/** 'disk' (full, or failing to write), 'busy' (the write lock stayed taken), else undefined. */
export function storageFaultOf(error: unknown): StorageFault | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      const fault = faultOfCode(code);
      if (fault) return fault;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What an operator is told: "database or disk is full", never a stack. */
export function describeStorageFault(fault: StorageFault): string {
  return fault === 'disk' ? 'the disk is full or failing: writes are refused until space is freed' : 'the database is locked by another process';
}
