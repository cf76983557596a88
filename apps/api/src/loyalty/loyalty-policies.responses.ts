import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'LoyaltyTier' })
export class LoyaltyTierView {
  @ApiProperty({ example: 'silver' }) name!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Tiers ascend by minPoints; the first starts at 0', example: 500 }) minPoints!: number;
}

@ApiSchema({ name: 'ExchangeRate' })
export class ExchangeRateView {
  @ApiProperty({ description: 'ISO 4217', example: 'EUR' }) currency!: string;
  @ApiProperty({ description: 'Units of the points currency per unit of `currency`, a decimal string', example: '0.85' }) rate!: string;
  @ApiProperty({ format: 'date', description: 'UTC day from which the rate applies', example: '2026-01-01' }) from!: string;
}

/** A loyalty policy version (the body PUT /loyalty/policies takes, and `current` of GET). */
@ApiSchema({ name: 'LoyaltyPolicy' })
export class LoyaltyPolicyView {
  @ApiProperty({ example: 'loyalty-2027-01' }) version!: string;
  @ApiProperty({ description: 'The points currency (ISO 4217): spend in other currencies counts through `rates`', example: 'GBP' }) currency!: string;
  @ApiProperty({ description: 'Points per whole unit of net spend', example: 1 }) pointsPerUnit!: number;
  @ApiProperty({ type: [LoyaltyTierView] }) tiers!: readonly LoyaltyTierView[];
  @ApiProperty({ type: [ExchangeRateView], description: 'Spend in a currency without a rate for its day is reported as unconverted' })
  rates!: readonly ExchangeRateView[];
}

@ApiSchema({ name: 'LoyaltyPolicies' })
export class LoyaltyPoliciesView {
  @ApiProperty({ type: LoyaltyPolicyView, description: 'In force now' }) current!: LoyaltyPolicyView;
  @ApiProperty({ enum: ['configured', 'published'], description: 'configured: nothing published yet, the configured policy is in force', example: 'published' })
  source!: 'configured' | 'published';

  @ApiProperty({ type: [LoyaltyPolicyView], description: 'The versions in force before, newest first (the configured policy last)' })
  earlier!: LoyaltyPolicyView[];

  @ApiProperty({ type: 'integer', minimum: -1, description: 'Revision of the loyalty-policies stream (-1: nothing published): send it as If-Match with PUT', example: 1 })
  streamRevision!: number;
}
