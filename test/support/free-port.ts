import { createServer } from 'node:net';

/**
 * A loopback port free at the time of asking, for a child process that must be told its port before it starts (and
 * restarted on the same one). Another process may take it in between: tests that can listen on port 0 should.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
