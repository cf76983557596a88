import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min,
  ValidateNested,
} from 'class-validator';
import { ID_PATTERN } from '../customers/customer.dto';
import { IsDecimalAmount, IsInstant } from '../http/validation';

export class PurchaseLineDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(64)
  sku!: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500)
  description?: string;

  @ApiProperty() @IsInt() @Min(1) @Max(1_000_000)
  quantity!: number;

  @ApiProperty({ oneOf: [{ type: 'string', example: '4.50' }, { type: 'number' }], description: 'Major units, ≤ 4 decimals' })
  @IsDecimalAmount()
  unitPrice!: string | number;
}

export class RecordPurchaseDto {
  @ApiProperty() @IsString() @Matches(ID_PATTERN)
  customerId!: string;

  @ApiPropertyOptional({ description: 'Client-supplied order id (e.g. an invoice number); a UUIDv7 when absent' })
  @IsOptional() @IsString() @Matches(ID_PATTERN)
  orderId?: string;

  @ApiPropertyOptional() @IsOptional() @IsInstant()
  occurredAt?: string;

  @ApiProperty({ example: 'GBP' }) @IsString() @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code' })
  currency!: string;

  @ApiProperty({ type: [PurchaseLineDto] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @ValidateNested({ each: true }) @Type(() => PurchaseLineDto)
  lines!: PurchaseLineDto[];
}

export class ReturnLineDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(64)
  sku!: string;

  @ApiProperty() @IsInt() @Min(1) @Max(1_000_000)
  quantity!: number;
}

export class RecordReturnDto {
  @ApiProperty({ type: [ReturnLineDto] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @ValidateNested({ each: true }) @Type(() => ReturnLineDto)
  lines!: ReturnLineDto[];

  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(1000)
  reason!: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(ID_PATTERN)
  returnId?: string;

  @ApiPropertyOptional() @IsOptional() @IsInstant()
  occurredAt?: string;
}
