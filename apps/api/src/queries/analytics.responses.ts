import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { PRIORITIES } from '@crm/domain';

@ApiSchema({ name: 'SlaFigures' })
export class SlaFiguresView {
  @ApiProperty({ type: 'integer', example: 40 }) complaints!: number;
  @ApiProperty({ type: 'integer', example: 3 }) breached!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'breached / complaints, 4 decimals; null without complaints', example: 0.075 })
  breachRatio!: number | null;

  @ApiProperty({ type: 'integer', example: 2 }) firstResponseBreached!: number;
  @ApiProperty({ type: 'integer', example: 1 }) resolutionBreached!: number;
  @ApiProperty({ type: 'integer', example: 35 }) resolved!: number;
  @ApiProperty({ type: Number, nullable: true, example: 26.5 }) medianHoursToResolve!: number | null;
}

@ApiSchema({ name: 'SlaFiguresOfPriority' })
export class SlaPriorityRowView extends SlaFiguresView {
  @ApiProperty({ enum: PRIORITIES, example: 'P1' }) priority!: string;
}

@ApiSchema({ name: 'SlaAnalytics' })
export class SlaAnalytics {
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) from!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) to!: string | null;
  @ApiProperty({ type: [SlaPriorityRowView] }) items!: SlaPriorityRowView[];
  @ApiProperty({ type: SlaFiguresView }) total!: SlaFiguresView;
  @ApiProperty({ enum: ['current', 'filing'], description: 'Which priority each complaint is counted under (?priorityAt=)' })
  priorityBasis!: 'current' | 'filing';
  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
}

@ApiSchema({ name: 'RevenueRow' })
export class RevenueRowView {
  @ApiProperty({ description: 'YYYY-MM, or YYYY with by=year', example: '2026-11' }) period!: string;
  @ApiProperty({ example: 'GBP' }) currency!: string;
  @ApiProperty({ example: '1500.00' }) gross!: string;
  @ApiProperty({ example: '120.00' }) returns!: string;
  @ApiProperty({ example: '1380.00' }) net!: string;
  @ApiProperty({ type: 'integer', example: 42 }) orders!: number;
  @ApiProperty({ type: 'integer', example: 3 }) returnCount!: number;
}

@ApiSchema({ name: 'RevenueTotal' })
export class RevenueTotalView {
  @ApiProperty({ example: 'GBP' }) currency!: string;
  @ApiProperty({ example: '1500.00' }) gross!: string;
  @ApiProperty({ example: '120.00' }) returns!: string;
  @ApiProperty({ example: '1380.00' }) net!: string;
}

@ApiSchema({ name: 'RevenueAnalytics' })
export class RevenueAnalytics {
  @ApiProperty({ enum: ['month', 'year'] }) by!: string;
  @ApiProperty({ type: [RevenueRowView] }) items!: RevenueRowView[];
  @ApiProperty({ type: [RevenueTotalView] }) totals!: RevenueTotalView[];
  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
}

@ApiSchema({ name: 'CrossSellPair' })
export class CrossSellPairView {
  @ApiProperty({ example: '85123A' }) sku!: string;
  @ApiProperty({ type: 'integer', description: 'Orders with both skus', example: 12 }) orders!: number;
  @ApiProperty({ example: 0.0123 }) support!: number;
  @ApiProperty({ example: 0.25 }) confidence!: number;
  @ApiProperty({ example: 3.2 }) lift!: number;
}

@ApiSchema({ name: 'CrossSell' })
export class CrossSell {
  @ApiProperty({ example: '22423' }) sku!: string;
  @ApiProperty({ type: 'integer', description: 'Orders with sku', example: 48 }) orders!: number;
  @ApiProperty({ type: 'integer', example: 3900 }) totalOrders!: number;
  @ApiProperty({ example: 0.0123 }) support!: number;
  @ApiProperty({ type: [CrossSellPairView], description: 'Highest confidence first' }) items!: CrossSellPairView[];
  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
}

@ApiSchema({ name: 'SlaWhatIfTally' })
export class WhatIfTallyView {
  @ApiProperty({ type: 'integer', example: 3 }) breached!: number;
  @ApiProperty({ type: 'integer', example: 2 }) firstResponse!: number;
  @ApiProperty({ type: 'integer', example: 1 }) resolution!: number;
  @ApiProperty({ example: 0.075 }) breachRatio!: number;
}

@ApiSchema({ name: 'SlaWhatIfPriority' })
export class WhatIfPriorityView {
  @ApiProperty({ enum: PRIORITIES, example: 'P1' }) priority!: string;
  @ApiProperty({ type: 'integer', example: 40 }) complaints!: number;
  @ApiProperty({ type: WhatIfTallyView }) current!: WhatIfTallyView;
  @ApiProperty({ type: WhatIfTallyView }) candidate!: WhatIfTallyView;
}

@ApiSchema({ name: 'SlaWhatIf' })
export class SlaWhatIfResult {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty({ format: 'date-time' }) evaluatedAt!: string;
  @ApiProperty({ example: 'sla-2026-01' }) currentPolicy!: string;
  @ApiProperty({ example: 'sla-candidate' }) candidatePolicy!: string;
  @ApiProperty({ type: [WhatIfPriorityView] }) priorities!: WhatIfPriorityView[];
  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
}
