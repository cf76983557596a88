/**
 * The baseline of the command-path bench: the least an HTTP event-store append can do. Fastify parses the JSON
 * body, one prepared statement appends one event row (next revision of the stream, global position) in its own
 * autocommit transaction, the reply is 201 `{ id, streamRevision, position }`. No auth, no validation, no read of
 * the stream, no decision. Env: BENCH_DB_FILE, BENCH_SYNC (NORMAL|FULL).
 */
import Database from 'better-sqlite3';
import fastify from 'fastify';
import { randomUUID } from 'node:crypto';
import { serveAsChild } from './child-protocol';

serveAsChild(async () => {
  const file = process.env.BENCH_DB_FILE;
  const synchronous = process.env.BENCH_SYNC;
  if (!file) throw new Error('BENCH_DB_FILE is required');
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') throw new Error('BENCH_SYNC must be NORMAL or FULL');

  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position    INTEGER PRIMARY KEY,
      stream_id   TEXT    NOT NULL,
      revision    INTEGER NOT NULL,
      type        TEXT    NOT NULL,
      data        TEXT    NOT NULL,
      metadata    TEXT    NOT NULL,
      recorded_at TEXT    NOT NULL,
      UNIQUE (stream_id, revision)
    );
  `);
  // Next revision and the insert in one statement (one implicit transaction, one commit per request).
  const append = db.prepare<[string, string, string, string, string, string], { position: number; revision: number }>(`
    INSERT INTO events (stream_id, revision, type, data, metadata, recorded_at)
    SELECT ?, coalesce(max(revision), -1) + 1, ?, ?, ?, ? FROM events WHERE stream_id = ?
    RETURNING position, revision
  `);

  const app = fastify({ logger: false });
  app.post<{ Params: { id: string }; Body: Record<string, unknown> }>('/customers/:id/contacts', (request, reply) => {
    const customerId = request.params.id;
    const streamId = `customer-${customerId}`;
    const contactId = randomUUID();
    const recordedAt = new Date().toISOString();
    const row = append.get(
      streamId,
      'ContactLogged',
      JSON.stringify({ ...request.body, customerId, contactId }),
      JSON.stringify({ eventId: randomUUID(), recordedAt }),
      recordedAt,
      streamId,
    );
    if (!row) throw new Error('append returned no row');
    void reply.code(201).send({ id: contactId, streamRevision: row.revision, position: row.position });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    close: async () => {
      await app.close();
      db.close();
    },
  };
});
