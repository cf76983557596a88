import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The agent console's built files (`npm run build:console` writes them to dist/console). Found from the repository
 * root, the nearest folder above this file with a package.json: this file runs from apps/api/src under ts-jest and
 * from dist/apps/api/apps/api/src when built, at different depths.
 */
export function defaultConsoleRoot(from: string = __dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'console');
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Serves the console at /console/ as plain static files, outside Nest: they need no token (the console asks the agent
 * for one and calls the public API with it), and an unknown file under /console/ still reaches Nest's not-found
 * handling, so it answers the same problem+json 404 as any unknown route. The policy keeps the page to its own
 * origin: no CDN, no external font, no inline script.
 */
export async function serveConsole(app: NestFastifyApplication, root: string | undefined = defaultConsoleRoot()): Promise<boolean> {
  if (!root || !existsSync(join(root, 'index.html'))) return false;
  await app.register(fastifyStatic, {
    root,
    // Without the trailing slash, so that /console itself redirects to /console/ (the page's relative base).
    prefix: '/console',
    // Swagger UI (or another plugin) may decorate the reply with sendFile too; two decorations would refuse to start.
    decorateReply: false,
    redirect: true,
    index: ['index.html'],
    // Files are rebuilt in place by `npm run build:console`; revalidating keeps an agent off a stale script.
    cacheControl: false,
    setHeaders: (reply) => {
      void reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
      void reply.header('x-content-type-options', 'nosniff');
      void reply.header('cache-control', 'no-cache');
    },
  });
  return true;
}
