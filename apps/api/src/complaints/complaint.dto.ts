import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CHANNELS, PRIORITIES, type Channel, type Priority } from '@crm/domain';
import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ID_PATTERN } from '../customers/customer.dto';
import { IsInstant } from '../http/validation';

export class FileComplaintDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(ID_PATTERN)
  id?: string;

  @ApiProperty() @IsString() @Matches(ID_PATTERN)
  customerId!: string;

  @ApiProperty({ enum: CHANNELS }) @IsIn(CHANNELS)
  channel!: Channel;

  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(200)
  category!: string;

  @ApiProperty({ enum: PRIORITIES }) @IsIn(PRIORITIES)
  priority!: Priority;

  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(10000)
  description!: string;

  @ApiPropertyOptional() @IsOptional() @IsBoolean()
  resolvedAtFirstContact?: boolean;

  @ApiPropertyOptional({ description: 'Business time of filing; SLA deadlines count from it' })
  @IsOptional() @IsInstant()
  occurredAt?: string;
}

export class RespondToComplaintDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(10000)
  message!: string;

  @ApiPropertyOptional() @IsOptional() @IsInstant()
  occurredAt?: string;
}

export class ResolveComplaintDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(10000)
  resolution!: string;

  @ApiPropertyOptional() @IsOptional() @IsInstant()
  occurredAt?: string;
}

export class ReopenComplaintDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(2000)
  reason!: string;

  @ApiPropertyOptional() @IsOptional() @IsInstant()
  occurredAt?: string;
}

export class CloseComplaintDto {
  @ApiPropertyOptional() @IsOptional() @IsInstant()
  occurredAt?: string;
}

export class ChangeComplaintOwnerDto {
  @ApiProperty() @IsString() @Matches(ID_PATTERN)
  ownerId!: string;

  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(1000)
  reason!: string;
}

export class AwaitCustomerDto {
  @ApiProperty({ description: 'What the customer was asked for' }) @IsString() @IsNotEmpty() @MaxLength(2000)
  reason!: string;

  @ApiPropertyOptional({ description: 'Business time the wait began' }) @IsOptional() @IsInstant()
  occurredAt?: string;
}

export class ResumeComplaintDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(2000)
  reason?: string;

  @ApiPropertyOptional({ description: 'Business time the wait ended' }) @IsOptional() @IsInstant()
  occurredAt?: string;
}

export class ChangeComplaintPriorityDto {
  @ApiProperty({ enum: PRIORITIES }) @IsIn(PRIORITIES)
  priority!: Priority;

  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(2000)
  reason!: string;

  @ApiPropertyOptional({ description: 'Business time of the change' }) @IsOptional() @IsInstant()
  occurredAt?: string;
}
