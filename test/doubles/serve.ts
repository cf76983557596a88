/**
 * `npm run servers:doubles`: the EventStoreDB gRPC double and the MongoDB wire double as standalone servers, for
 * running the API and the projector against "production" stores on a machine without them. One process serves
 * both (the doubles are in-process servers already; one process means one signal to stop both, and nothing to
 * orphan). Data lives in memory only and is gone when the process ends.
 *
 * Ports: ESDB_DOUBLE_PORT and MONGO_DOUBLE_PORT (unset or 0: a free port). Prints exactly two lines to stdout,
 *   EVENTSTORE_CONNECTION_STRING=esdb://127.0.0.1:<port>?tls=false
 *   MONGODB_URI=mongodb://127.0.0.1:<port>/crm?directConnection=true
 * then runs until SIGTERM or SIGINT, and exits 0. The Mongo double picks its own port; a fixed MONGO_DOUBLE_PORT is
 * a TCP relay in front of it (one upstream connection per client connection, so the double sees the same
 * connections it would see directly).
 */
import net from 'node:net';
import { startEventStoreDbDouble } from './eventstoredb-grpc-double';
import { startMongoDouble } from './mongo-wire-double';

const HOST = '127.0.0.1';

function portFrom(name: string): number {
  const raw = process.env[name]?.trim() ?? '';
  if (raw === '') return 0;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${name} must be a port number (0-65535, 0 for a free port), got "${raw}"`);
  return port;
}

/** Listens on `port` and relays every connection to `target`; resolves to a function that closes it. */
async function relay(port: number, target: number): Promise<() => Promise<void>> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, HOST);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, HOST, resolve));
  return () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
}

async function main(): Promise<void> {
  const esdbPort = portFrom('ESDB_DOUBLE_PORT');
  const mongoPort = portFrom('MONGO_DOUBLE_PORT');
  const esdb = await startEventStoreDbDouble({ port: esdbPort, host: HOST });
  const mongo = await startMongoDouble();
  const mongoTarget = Number(new URL(mongo.uri).port);
  const closeRelay = mongoPort === 0 ? undefined : await relay(mongoPort, mongoTarget);
  const served = mongoPort === 0 ? mongoTarget : mongoPort;
  process.stdout.write(`EVENTSTORE_CONNECTION_STRING=esdb://${HOST}:${esdb.port}?tls=false\n`);
  process.stdout.write(`MONGODB_URI=mongodb://${HOST}:${served}/crm?directConnection=true\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void Promise.allSettled([esdb.stop(), mongo.stop(), closeRelay?.()]).then((outcomes) => {
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) process.stderr.write(`stopping the doubles: ${String(failed.reason)}\n`);
      // gRPC keeps timers of its own; the data is in memory and gone either way.
      process.exit(failed ? 1 : 0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`servers:doubles failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
