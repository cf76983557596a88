import { type ArgumentMetadata, type PipeTransform, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { TransformationType } from 'class-transformer';
import { getMetadataStorage, ValidationTypes, type ValidationArguments, type ValidatorConstraintInterface } from 'class-validator';

// class-transformer's decorator registry: its package exposes no typed entry for it, the one the pipe's own copy uses.
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as typeof import('class-transformer/types/storage');

type DtoClass = new () => object;

interface PropertyCheck {
  readonly property: string;
  /** IsOptional / ValidateIf: the property's checks run only when all of these hold. */
  readonly conditions: ReadonlyArray<(object: object, value: unknown) => boolean>;
  readonly validators: ReadonlyArray<{ readonly instance: ValidatorConstraintInterface; readonly constraints: unknown[] }>;
}

/** The accepting half of class-validator's executor for one DTO class, or null when the class uses more than it models. */
interface CompiledDto {
  readonly properties: ReadonlySet<string>;
  readonly checks: readonly PropertyCheck[];
}

/**
 * Reads a DTO's class-validator metadata once into a list of checks. Only what the pipe's options and our DTOs use
 * is modelled: plain custom validators (IsString, IsIn, MaxLength, Matches, IsInstant, ...) and conditions
 * (IsOptional, ValidateIf). A class with anything else (nested DTOs, IsDefined, `each`, async validators, groups,
 * class-transformer decorators) gets null and always takes the full pipe.
 */
function compile(metatype: DtoClass): CompiledDto | null {
  const storage = getMetadataStorage();
  // As the executor asks for them with the pipe's options: no groups, `always` off.
  const metadatas = storage.getTargetValidationMetadatas(metatype, '', false, false, undefined);
  if (metadatas.length === 0) return null;
  if (defaultMetadataStorage.getStrategy(metatype) !== 'none' || defaultMetadataStorage.getExposedMetadatas(metatype).length > 0
    || defaultMetadataStorage.getExcludedMetadatas(metatype).length > 0) return null;
  const byProperty = new Map<string, { conditions: PropertyCheck['conditions'][number][]; validators: PropertyCheck['validators'][number][] }>();
  for (const m of metadatas) {
    if (m.each || (m.groups && m.groups.length > 0) || m.always) return null;
    const entry = byProperty.get(m.propertyName) ?? { conditions: [], validators: [] };
    byProperty.set(m.propertyName, entry);
    if (m.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      entry.conditions.push(m.constraints[0] as (object: object, value: unknown) => boolean);
    } else if (m.type === ValidationTypes.CUSTOM_VALIDATION && m.constraintCls && !(m as { validateIf?: unknown }).validateIf) {
      for (const c of storage.getTargetValidatorConstraints(m.constraintCls)) {
        if (c.async) return null;
        entry.validators.push({ instance: c.instance, constraints: m.constraints });
      }
    } else {
      return null;
    }
  }
  for (const property of byProperty.keys()) {
    if (defaultMetadataStorage.findTypeMetadata(metatype, property)) return null;
    for (const t of [TransformationType.PLAIN_TO_CLASS, TransformationType.CLASS_TO_PLAIN, TransformationType.CLASS_TO_CLASS]) {
      if (defaultMetadataStorage.findTransformMetadatas(metatype, property, t).length > 0) return null;
    }
  }
  return {
    properties: new Set(byProperty.keys()),
    checks: [...byProperty.entries()].map(([property, e]) => ({ property, conditions: e.conditions, validators: e.validators })),
  };
}

const isPlainScalarObject = (value: unknown): value is Record<string, string | number | boolean> => {
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const v of Object.values(value)) {
    const t = typeof v;
    if (t !== 'string' && t !== 'number' && t !== 'boolean') return false;
  }
  return true;
};

/** The full pipe, with what the compiled pipe needs to answer parameters that ValidationPipe only passes through. */
class FullValidationPipe extends ValidationPipe {
  /** Whether ValidationPipe.transform would answer `transformPrimitive` without validating (ids, custom decorators). */
  passesThrough(metadata: ArgumentMetadata): boolean {
    return !metadata.metatype || !this.toValidate(metadata);
  }

  primitive(value: unknown, metadata: ArgumentMetadata): unknown {
    return this.transformPrimitive(value, metadata);
  }
}

/**
 * The validation pipe with a compiled path for bodies that pass (profile of the command path: class-transformer and
 * class-validator were ~10 % of a command's main-thread CPU, mostly metadata look-ups, grouping and error objects
 * built for every property of a valid body). A body that the compiled checks accept, and that has only known keys and
 * scalar values, becomes the DTO instance class-transformer would have built; every other body (any failure, any doubt)
 * goes through the full pipe, so every 400 is still built by class-validator, field by field, as before.
 *
 * What it can answer at once it answers synchronously (Nest awaits a pipe's result either way): a valid body, a
 * custom decorator's value (the command context), a path id. ValidationPipe.transform is async and builds an array
 * of primitive types per call: a promise, a microtask and that array for each of a command's 3–4 parameters.
 */
export class CompiledValidationPipe implements PipeTransform<unknown, unknown> {
  private readonly compiled = new Map<DtoClass, CompiledDto | null>();
  private readonly full: FullValidationPipe;

  constructor(options: ValidationPipeOptions) {
    // Only the options whose accepting behaviour the compiled checks reproduce.
    if (!options.whitelist || !options.forbidNonWhitelisted || !options.transform || options.transformOptions || options.groups
      || options.always || options.skipMissingProperties || options.skipUndefinedProperties || options.skipNullProperties || options.expectedType
      || options.validateCustomDecorators) {
      throw new Error('CompiledValidationPipe models whitelist + forbidNonWhitelisted + transform without further options');
    }
    this.full = new FullValidationPipe(options);
  }

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const metatype = metadata.metatype as DtoClass | undefined;
    if (metadata.type === 'body' && typeof metatype === 'function') {
      let compiled = this.compiled.get(metatype);
      if (compiled === undefined) {
        compiled = compile(metatype);
        this.compiled.set(metatype, compiled);
      }
      if (compiled && isPlainScalarObject(value)) {
        const entity = accepted(metatype, compiled, value);
        if (entity) return entity;
      }
    }
    if (this.full.passesThrough(metadata)) return this.full.primitive(value, metadata);
    return this.full.transform(value, metadata);
  }
}

/** The instance class-transformer builds (a new DTO with the body's keys copied), if every check passes; else undefined. */
function accepted(metatype: DtoClass, compiled: CompiledDto, body: Record<string, string | number | boolean>): object | undefined {
  for (const key of Object.keys(body)) if (!compiled.properties.has(key)) return undefined; // whitelist: the full pipe names it
  const entity = Object.assign(new metatype(), body) as Record<string, unknown>;
  const targetName = metatype.name;
  for (const check of compiled.checks) {
    const value = entity[check.property];
    let applies = true;
    for (const condition of check.conditions) applies = condition(entity, value) && applies;
    if (!applies) continue;
    for (const v of check.validators) {
      const args: ValidationArguments = { targetName, property: check.property, object: entity, value, constraints: v.constraints };
      const ok = v.instance.validate(value, args);
      if (typeof ok !== 'boolean' || !ok) return undefined; // a refusal (or a promise): the full pipe decides and words it
    }
  }
  return entity;
}
