import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiSchema, getSchemaPath } from '@nestjs/swagger';

@ApiSchema({ name: 'MoneyAmount' })
export class MoneyView {
  @ApiProperty({ description: 'Exact decimal in major units', example: '123.45' }) amount!: string;
  @ApiProperty({ description: 'ISO 4217', example: 'GBP' }) currency!: string;
}

@ApiSchema({ name: 'SpendTotals' })
export class SpendView {
  @ApiProperty({ example: '150.00' }) gross!: string;
  @ApiProperty({ example: '26.55' }) returns!: string;
  @ApiProperty({ example: '123.45' }) net!: string;
}

@ApiSchema({ name: 'RfmScores' })
export class RfmScoresView {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 5, example: 4 }) recency!: number;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 5, example: 3 }) frequency!: number;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 5, example: 5 }) monetary!: number;
}

@ApiSchema({ name: 'Rfm' })
export class RfmView {
  @ApiProperty({ type: 'integer', example: 12 }) recencyDays!: number;
  @ApiProperty({ type: 'integer', description: 'Orders', example: 3 }) frequency!: number;
  @ApiProperty({ type: MoneyView }) monetary!: MoneyView;
  @ApiProperty({ type: RfmScoresView }) scores!: RfmScoresView;
  @ApiProperty({ description: 'The three scores as digits', example: '435' }) segment!: string;
  @ApiProperty({ type: 'integer', description: 'Customers with a purchase, scored against each other', example: 4372 }) customersScored!: number;
}

@ApiSchema({ name: 'PurchaseIntervals' })
export class PurchaseIntervalsView {
  @ApiProperty({ type: 'integer', example: 3 }) orders!: number;
  @ApiProperty({ type: Number, nullable: true, example: 30.5 }) meanDays!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 28 }) medianDays!: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Last purchase + median interval' }) nextExpectedAt!: string | null;
}

@ApiSchema({ name: 'Loyalty' })
@ApiExtraModels(SpendView)
export class LoyaltyView {
  @ApiProperty({ example: '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f' }) customerId!: string;
  @ApiProperty({ example: 'loyalty-2026-01' }) policyVersion!: string;
  @ApiProperty({ description: 'The points currency: points, RFM monetary and top spenders are figured in it', example: 'GBP' }) currency!: string;
  @ApiProperty({ type: [MoneyView], description: 'Net spend in currencies without a rate in the policy: counted in their own currency only, never as zero' })
  unconverted!: MoneyView[];
  @ApiProperty({ type: 'integer', example: 123 }) points!: number;
  @ApiProperty({ example: 'bronze' }) tier!: string;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(SpendView) }, description: 'Per currency' })
  spend!: Record<string, SpendView>;

  @ApiProperty({ type: 'integer', example: 3 }) orders!: number;
  @ApiProperty({ type: 'integer', example: 1 }) returns!: number;
  @ApiProperty({ format: 'date-time', description: 'Recency is counted to this time' }) referenceDate!: string;
  @ApiProperty({ type: RfmView, nullable: true, description: 'null before the first purchase' }) rfm!: RfmView | null;
  @ApiPropertyOptional({ format: 'date-time' }) firstPurchaseAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) lastPurchaseAt?: string;
  @ApiProperty({ type: PurchaseIntervalsView }) purchaseIntervals!: PurchaseIntervalsView;
  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
}

@ApiSchema({ name: 'TopCustomer' })
export class TopCustomerView {
  @ApiProperty({ type: 'integer', example: 1 }) rank!: number;
  @ApiProperty({ example: '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f' }) customerId!: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Not for analysts' }) name?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Not for analysts' }) externalRef?: string | null;
  @ApiProperty({ type: MoneyView }) monetary!: MoneyView;
  @ApiProperty({ type: [MoneyView], description: 'Net spend in currencies without a rate (not in monetary)' }) unconverted!: MoneyView[];
  @ApiProperty({ type: 'integer', example: 2500 }) points!: number;
  @ApiProperty({ example: 'gold' }) tier!: string;
  @ApiProperty({ type: 'integer', example: 12 }) orders!: number;
}

@ApiSchema({ name: 'TopCustomers' })
export class TopCustomers {
  @ApiProperty({ enum: ['monetary', 'points'] }) by!: string;
  @ApiProperty({ example: 'GBP' }) currency!: string;
  @ApiProperty({ example: 'loyalty-2026-01', description: 'The loyalty policy version the figures are under' }) policyVersion!: string;
  @ApiProperty({ type: [TopCustomerView] }) items!: TopCustomerView[];
  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
}
