import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CHANNELS, CONTACT_PURPOSES, DIRECTIONS, type Channel, type ContactPurpose, type Direction } from '@crm/domain';
import {
  ArrayMaxSize, ArrayUnique, IsArray, IsBoolean, IsEmail, IsIn, IsInt, IsNotEmpty, IsOptional, IsString,
  Matches, Max, MaxLength, Min, ValidateIf,
} from 'class-validator';
import { IsInstant } from '../http/validation';

export const ID_PATTERN = /^[A-Za-z0-9][\w.:-]{0,99}$/;
const PHONE = /^\+?[0-9 ()./-]{3,40}$/;

export class RegisterCustomerDto {
  @ApiPropertyOptional({ description: 'Client-supplied id; a UUIDv7 is generated when absent' })
  @IsOptional() @IsString() @Matches(ID_PATTERN)
  id?: string;

  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(200)
  name!: string;

  @ApiPropertyOptional() @IsOptional() @IsEmail() @MaxLength(320)
  email?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(PHONE)
  phone?: string;

  @ApiProperty({ enum: ['prospect', 'customer'] }) @IsIn(['prospect', 'customer'])
  kind!: 'prospect' | 'customer';

  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(ID_PATTERN)
  ownerId?: string;

  @ApiPropertyOptional({ description: 'Id in a source system, e.g. online-retail:14646' })
  @IsOptional() @IsString() @MaxLength(200)
  externalRef?: string;
}

export class ChangeCustomerProfileDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ nullable: true }) @ValidateIf((_, v) => v !== null && v !== undefined) @IsEmail() @MaxLength(320)
  email?: string | null;

  @ApiPropertyOptional({ nullable: true }) @ValidateIf((_, v) => v !== null && v !== undefined) @IsString() @Matches(PHONE)
  phone?: string | null;
}

export class AssignOwnerDto {
  @ApiProperty() @IsString() @Matches(ID_PATTERN)
  ownerId!: string;

  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(1000)
  reason!: string;

  @ApiPropertyOptional({
    default: true,
    description: "Hand the customer's open complaints and follow-ups over to the new owner too, each move with this reason "
      + '(follow-ups at once, complaints shortly after by the owner hand-over process). false: they stay with their owners.',
  })
  @IsOptional() @IsBoolean()
  moveOpenWork?: boolean;
}

export class ContactPreferencesDto {
  @ApiProperty({ nullable: true, description: 'null: the policy default applies' })
  @ValidateIf((_, v) => v !== null) @IsInt() @Min(0) @Max(100)
  maxContactsPer7Days!: number | null;

  @ApiProperty() @IsBoolean()
  doNotContact!: boolean;

  @ApiProperty({ enum: CHANNELS, isArray: true, description: 'Channels the customer accepts for outbound contact; empty = any' })
  @IsArray() @ArrayUnique() @ArrayMaxSize(CHANNELS.length) @IsIn(CHANNELS, { each: true })
  channels!: Channel[];
}

export class LogContactDto {
  @ApiProperty({ enum: CHANNELS }) @IsIn(CHANNELS)
  channel!: Channel;

  @ApiProperty({ enum: DIRECTIONS }) @IsIn(DIRECTIONS)
  direction!: Direction;

  @ApiProperty({ enum: CONTACT_PURPOSES }) @IsIn(CONTACT_PURPOSES)
  purpose!: ContactPurpose;

  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(5000)
  summary!: string;

  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(500)
  outcome!: string;

  @ApiPropertyOptional({ description: 'Business time; in the past for offline-recorded or imported contacts' })
  @IsOptional() @IsInstant()
  occurredAt?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(ID_PATTERN)
  complaintId?: string;
}

export class ScheduleFollowUpDto {
  @ApiProperty() @IsInstant()
  dueAt!: string;

  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(1000)
  reason!: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(ID_PATTERN)
  complaintId?: string;
}

export class CompleteFollowUpDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000)
  note?: string;
}

export class CancelFollowUpDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000)
  reason?: string;
}
