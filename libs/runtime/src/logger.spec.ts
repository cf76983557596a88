import { Logger } from '@nestjs/common';
import { makeLogger } from './logger';

function capture(level: Parameters<typeof makeLogger>[0]['logLevel'], context?: string): { lines: Array<Record<string, unknown>>; logger: ReturnType<typeof makeLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = makeLogger({ logLevel: level }, context, { write: (chunk: string) => lines.push(JSON.parse(chunk) as Record<string, unknown>) });
  return { lines, logger };
}

describe('PinoLoggerService (Nest LoggerService on pino)', () => {
  it('writes an object message as fields of the line, its msg as the message, with the context Nest passes last', () => {
    const { lines, logger } = capture('log');
    logger.log({ msg: 'projector started', projections: ['loyalty@v1:0'] }, 'projector');
    expect(lines).toEqual([expect.objectContaining({ level: 'info', msg: 'projector started', projections: ['loyalty@v1:0'], context: 'projector', pid: process.pid })]);
    expect(typeof lines[0]?.['time']).toBe('string');
    expect(typeof lines[0]?.['hostname']).toBe('string');
  });

  it('keeps the stack of error(message, stack, context) as a field and tells a context from a stack', () => {
    const { lines, logger } = capture('log');
    const stack = new Error('disk gone').stack;
    logger.error({ msg: 'request failed', status: 503 }, stack, 'http');
    logger.error('no stack here', 'http');
    logger.error(new Error('thrown as is'));
    expect(lines[0]).toMatchObject({ level: 'error', msg: 'request failed', status: 503, context: 'http', stack });
    expect(lines[1]).toMatchObject({ level: 'error', msg: 'no stack here', context: 'http' });
    expect(lines[1]).not.toHaveProperty('stack');
    expect(lines[2]).toMatchObject({ level: 'error', msg: 'thrown as is', err: expect.objectContaining({ message: 'thrown as is', type: 'Error' }) });
  });

  it('honours LOG_LEVEL: warn drops log and debug lines; silent writes nothing', () => {
    const warn = capture('warn', 'projector');
    warn.logger.log('dropped');
    warn.logger.debug('dropped');
    warn.logger.warn('kept');
    expect(warn.lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'kept', context: 'projector' })]);
    const silent = capture('silent');
    for (const write of [silent.logger.error, silent.logger.warn, silent.logger.log, silent.logger.fatal]) write.call(silent.logger, 'nothing');
    expect(silent.lines).toHaveLength(0);
  });

  it('serves Nest\'s static Logger once it is the app logger (new Logger(context) in the code base)', () => {
    const { lines, logger } = capture('debug');
    Logger.overrideLogger(logger);
    try {
      new Logger('erasure').debug({ msg: 'resumed', customers: 2 });
    } finally {
      Logger.overrideLogger(false);
    }
    expect(lines).toEqual([expect.objectContaining({ level: 'debug', msg: 'resumed', customers: 2, context: 'erasure' })]);
  });
});
