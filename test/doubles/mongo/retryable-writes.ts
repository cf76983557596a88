/**
 * Retryable writes as mongod keeps them (per logical session: the highest txnNumber and the reply of each write),
 * so a write retried after a lost reply is answered from the record instead of being applied twice.
 */
import { BSON, type Document } from 'mongodb';
import { CommandError } from './errors';

interface SessionRecord { latest: number; readonly replies: Map<number, Document> }

export interface RetryableWrite {
  /** The reply of the first execution when this is a retry. */
  readonly recorded: Document | undefined;
  record(reply: Document): void;
}

const numberOf = (v: unknown): number | undefined => (v instanceof BSON.Long ? v.toNumber() : typeof v === 'number' ? v : undefined);

export class RetryableWrites {
  private readonly sessions = new Map<string, SessionRecord>();

  begin(lsid: unknown, txnNumber: unknown): RetryableWrite {
    const id: unknown = typeof lsid === 'object' && lsid !== null && 'id' in lsid ? lsid.id : undefined;
    const txn = numberOf(txnNumber);
    if (!(id instanceof BSON.Binary) || txn === undefined) {
      throw new CommandError(72, 'InvalidOptions', 'txnNumber requires a logical session id (lsid) and a numeric txnNumber');
    }
    const key = id.toString('hex');
    const session = this.sessions.get(key) ?? { latest: txn, replies: new Map<number, Document>() };
    this.sessions.set(key, session);
    if (txn < session.latest) {
      throw new CommandError(225, 'TransactionTooOld',
        `Cannot start transaction ${txn} on session ${key} because a newer transaction ${session.latest} has already started.`);
    }
    // mongod keeps the statements of the session's latest transaction number only.
    if (txn > session.latest) session.replies.clear();
    session.latest = txn;
    return { recorded: session.replies.get(txn), record: (reply) => session.replies.set(txn, reply) };
  }
}
