import { type PipeTransform, ValidationError, type ValidationPipeOptions } from '@nestjs/common';
import { registerDecorator, type ValidationOptions } from 'class-validator';
import { CompiledValidationPipe } from './compiled-validation';
import { type FieldError, problems } from './problem';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own: FieldError[] = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
  exceptionFactory: (errors) => problems.validation(flatten(errors)),
};

/**
 * class-validator DTOs: unknown fields refused, failures as a 400 problem with one entry per field. Valid bodies take
 * a compiled path (compiled-validation.ts); every refusal is built by the full ValidationPipe.
 */
export function makeValidationPipe(): PipeTransform<unknown, unknown> {
  return new CompiledValidationPipe(VALIDATION_OPTIONS);
}

const DECIMAL = /^\d{1,13}(\.\d{1,4})?$/;

/** A non-negative price in major units: decimal string, up to 4 decimals ("4.50", "0.001"), or a JSON number. */
export function IsDecimalAmount(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isDecimalAmount',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: '$property must be a non-negative decimal amount with at most 4 decimals, e.g. "4.50"', ...options },
      validator: {
        validate: (value: unknown) =>
          (typeof value === 'string' && DECIMAL.test(value)) ||
          (typeof value === 'number' && Number.isFinite(value) && DECIMAL.test(String(value))),
      },
    });
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 date-time with a zone: a time without one would silently be read as the server's local time. */
export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isInstant',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: '$property must be an ISO-8601 date-time with a zone, e.g. 2026-11-23T10:00:00Z', ...options },
      validator: {
        validate: (value: unknown) => typeof value === 'string' && INSTANT.test(value) && !Number.isNaN(Date.parse(value)),
      },
    });
}
