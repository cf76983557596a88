import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventStoreDBClient, jsonEvent, NO_STREAM } from '@eventstore/db-client';
import { MongoClient } from 'mongodb';
import { freePort } from '../support/free-port';

/**
 * `npm run servers:doubles` as an operator uses it: started as its own process, it prints the two connection
 * settings, both real clients work against them, and SIGTERM ends it with exit code 0. The command is taken from
 * package.json (run with this node, without npm in between, so the signal reaches the server itself).
 */
const ROOT = join(__dirname, '..', '..');
const SCRIPT = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['servers:doubles'] ?? '';
const WAIT_MS = 20_000;

interface Served {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

function serve(env: Record<string, string>): Promise<Served> {
  const [command, ...args] = SCRIPT.split(' ');
  expect(command).toBe('node');
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env } });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise<Served>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`no connection settings within ${WAIT_MS} ms; stderr: ${stderr}`)), WAIT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const complete = buffered.split('\n');
      buffered = complete.pop() ?? '';
      lines.push(...complete);
      if (lines.length >= 2) {
        clearTimeout(timer);
        resolve({ child, lines, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${String(code)} before printing both settings; stderr: ${stderr}`));
    });
  });
}

async function useBoth(esdbUri: string, mongoUri: string): Promise<void> {
  const esdb = EventStoreDBClient.connectionString(esdbUri);
  const mongo = new MongoClient(mongoUri, { serverSelectionTimeoutMS: 5_000 });
  try {
    const stream = `served-${randomUUID()}`;
    await esdb.appendToStream(stream, jsonEvent({ type: 'Served', data: { marker: stream } }), { expectedRevision: NO_STREAM });
    const read: unknown[] = [];
    for await (const resolved of esdb.readStream(stream)) read.push(resolved.event?.data);
    expect(read).toEqual([{ marker: stream }]);

    await mongo.connect();
    const collection = mongo.db().collection<{ _id: string; marker: string }>('served');
    await collection.insertOne({ _id: stream, marker: stream });
    expect(await collection.findOne({ _id: stream })).toEqual({ _id: stream, marker: stream });
  } finally {
    await esdb.dispose();
    await mongo.close();
  }
}

describe('npm run servers:doubles', () => {
  // Each test starts the doubles through npm and ts-node (seconds on a busy 2-core machine), then waits up to WAIT_MS.
  jest.setTimeout(3 * WAIT_MS);
  let running: Served | undefined;
  afterEach(() => {
    if (running && running.child.exitCode === null) running.child.kill('SIGKILL');
    running = undefined;
  });

  it('on free ports: prints the two settings, serves both clients, and exits 0 on SIGTERM', async () => {
    running = await serve({ ESDB_DOUBLE_PORT: '0', MONGO_DOUBLE_PORT: '0' });
    const [esdbLine, mongoLine] = running.lines;
    expect(esdbLine).toMatch(/^EVENTSTORE_CONNECTION_STRING=esdb:\/\/127\.0\.0\.1:\d+\?tls=false$/);
    expect(mongoLine).toMatch(/^MONGODB_URI=mongodb:\/\/127\.0\.0\.1:\d+\/crm\?directConnection=true$/);
    await useBoth(esdbLine!.split('=').slice(1).join('='), mongoLine!.split('=').slice(1).join('='));
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(running.lines.filter((l) => l !== '')).toHaveLength(2);
  });

  it('on the ports given, and SIGINT ends it too', async () => {
    const [esdbPort, mongoPort] = [await freePort(), await freePort()];
    running = await serve({ ESDB_DOUBLE_PORT: String(esdbPort), MONGO_DOUBLE_PORT: String(mongoPort) });
    expect(running.lines.slice(0, 2)).toEqual([
      `EVENTSTORE_CONNECTION_STRING=esdb://127.0.0.1:${esdbPort}?tls=false`,
      `MONGODB_URI=mongodb://127.0.0.1:${mongoPort}/crm?directConnection=true`,
    ]);
    await useBoth(`esdb://127.0.0.1:${esdbPort}?tls=false`, `mongodb://127.0.0.1:${mongoPort}/crm?directConnection=true`);
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
  });

  it('refuses a port that is not one, with exit code 1 and the reason', async () => {
    await expect(serve({ ESDB_DOUBLE_PORT: 'eleven' })).rejects.toThrow(/exited with 1 .*ESDB_DOUBLE_PORT must be a port number/);
  });
});
