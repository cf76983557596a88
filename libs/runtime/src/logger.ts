import type { LoggerService } from '@nestjs/common';
import { hostname } from 'node:os';
import { pino, stdTimeFunctions, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import type { AppConfig } from './config';

/** LOG_LEVEL (Nest's names, as documented since the first release) → pino's level. */
export const PINO_LEVELS: Record<AppConfig['logLevel'], LevelWithSilent> = {
  silent: 'silent',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
};

/**
 * The process's pino logger: one JSON object per line on stdout (or `destination`, which tests capture), the level
 * as its name rather than pino's number (what log shippers and people grep for), ISO time, and the host and process
 * id so that lines of several replicas collected in one place stay apart.
 */
export function createPinoLogger(level: AppConfig['logLevel'], destination?: DestinationStream, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level: PINO_LEVELS[level],
      base: { pid: process.pid, hostname: hostname(), ...bindings },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

const looksLikeStack = (value: unknown): value is string => typeof value === 'string' && /\n\s+at /.test(value);

type NestLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
const TO_PINO: Record<NestLevel, 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal'> = {
  log: 'info', error: 'error', warn: 'warn', debug: 'debug', verbose: 'trace', fatal: 'fatal',
};

/**
 * Nest's LoggerService on pino, so that Nest's own lines and every `new Logger(context)` of this code base come out
 * as pino JSON. A message that is an object (`{ msg, ...fields }`, this code base's habit) becomes fields of the line.
 * Nest passes `(message, context)` and for errors `(message, stack, context)`: the last string is the context.
 */
export class PinoLoggerService implements LoggerService {
  constructor(
    readonly pino: Logger,
    private readonly context?: string,
  ) {}

  log(message: unknown, ...optional: unknown[]): void { this.write('log', message, optional); }
  error(message: unknown, ...optional: unknown[]): void { this.write('error', message, optional); }
  warn(message: unknown, ...optional: unknown[]): void { this.write('warn', message, optional); }
  debug(message: unknown, ...optional: unknown[]): void { this.write('debug', message, optional); }
  verbose(message: unknown, ...optional: unknown[]): void { this.write('verbose', message, optional); }
  fatal(message: unknown, ...optional: unknown[]): void { this.write('fatal', message, optional); }

  private write(level: NestLevel, message: unknown, optional: unknown[]): void {
    const target = TO_PINO[level];
    if (!this.pino.isLevelEnabled(target)) return;
    const fields: Record<string, unknown> = {};
    const rest = [...optional];
    const last = rest.at(-1);
    if (typeof last === 'string' && !looksLikeStack(last)) {
      fields['context'] = last;
      rest.pop();
    }
    if (fields['context'] === undefined && this.context !== undefined) fields['context'] = this.context;
    const stack = rest.find(looksLikeStack);
    if (stack !== undefined) fields['stack'] = stack;
    if (message instanceof Error) {
      this.pino[target]({ ...fields, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      const { msg, ...others } = message as Record<string, unknown>;
      this.pino[target]({ ...fields, ...others }, typeof msg === 'string' ? msg : undefined);
    } else {
      this.pino[target](fields, String(message));
    }
  }
}

/** A Nest LoggerService on a pino logger of its own, for the processes that have no Nest app (projector, worker). */
export function makeLogger(config: Pick<AppConfig, 'logLevel'>, context?: string, destination?: DestinationStream): PinoLoggerService {
  return new PinoLoggerService(createPinoLogger(config.logLevel, destination), context);
}
