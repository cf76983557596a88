import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { listenOptions } from './http/http-edge';
import { loadConfig, startTracing } from '@crm/runtime';

async function main(): Promise<void> {
  const config = loadConfig();
  // Before the app is built: the HTTP hooks are installed only when tracing is on (OTEL_* variables).
  const tracing = await startTracing({ serviceName: 'crm-api' });
  const { app, tokens } = await createApp({ config });
  app.enableShutdownHooks();
  await app.listen(listenOptions(config));
  const logger = new Logger('main');
  logger.log({
    msg: 'listening', port: config.port, dataDir: config.dataDir, eventStore: config.eventStoreConnectionString ? 'eventstoredb' : 'sqlite',
    tracing: tracing ? 'on' : 'off',
  });
  if (tokens.createdAdminToken) {
    // Printed once, on the start that created it; afterwards it is only in the file (mode 600).
    process.stdout.write(
      `\nAdmin token created in ${tokens.adminTokenFile}\nAuthorization: Bearer ${tokens.createdAdminToken}\n\n`,
    );
  } else if (tokens.adminTokenFile) {
    logger.log({ msg: 'admin token', file: tokens.adminTokenFile });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
