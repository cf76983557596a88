import type { Document } from 'mongodb';

/** A command failure as the server reports it: `{ ok: 0, errmsg, code, codeName, ...extra }` (or a write error). */
export class CommandError extends Error {
  constructor(readonly code: number, readonly codeName: string, message: string, readonly extra: Document = {}) {
    super(message);
  }
}
