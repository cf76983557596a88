import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
import { ID_PATTERN } from './customer.dto';

/** Body of `POST /customers/:id/merge` and `POST /customers/:id/unmerge`; `:id` is the survivor. */
export class MergeCustomersDto {
  @ApiProperty({ description: 'The customer folded into (or split off from) the survivor named in the path' })
  @IsString() @Matches(ID_PATTERN)
  duplicateId!: string;

  @ApiProperty({ description: 'Why (personal free text: erased with the customers)' })
  @IsString() @IsNotEmpty() @MaxLength(1000)
  reason!: string;
}
