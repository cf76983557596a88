import { Param, PipeTransform } from '@nestjs/common';
import { ID_PATTERN } from '../customers/customer.dto';
import { problems } from './problem';

/** Path ids are checked before any store access: a malformed id is a 400, never a lookup. */
const validId: PipeTransform<string, string> = {
  transform(value: string): string {
    if (!ID_PATTERN.test(value)) throw problems.validation([{ field: 'id', messages: ['id must be 1-100 of [A-Za-z0-9_.:-]'] }]);
    return value;
  },
};

export const IdParam = (name: string): ParameterDecorator => Param(name, validId);
