import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { add, formatMoney, PRIORITIES, rescale, subtract, type Money } from '@crm/domain';
import {
  COMPLAINTS, complaintsProjection, CROSS_SELL_ORDERS, CROSS_SELL_SKUS, CROSS_SELL_TOTALS, CROSS_SELL_TOTALS_ID,
  crossSellProjection, MONTHLY_REVENUE, monthlyRevenueProjection, orderIdsOf, physicalCollection, READ_MODEL_STORE,
  type ComplaintDoc, type CrossSellOrderDoc, type CrossSellSkuDoc, type CrossSellTotalsDoc, type MonthlyRevenueDoc,
  type Query as DocQuery, type ReadModelStore,
} from '@crm/read-models';
import { Roles } from '../auth/principal';
import { problems } from '../http/problem';
import { ReadModelGate } from '../read-side/read-model-gate';
import { enumParam, instantParam, intParam, MinPosition } from './query-params';

const COMPLAINT_DOCS = physicalCollection(complaintsProjection, COMPLAINTS);
const REVENUE_DOCS = physicalCollection(monthlyRevenueProjection, MONTHLY_REVENUE);
const SKU_DOCS = physicalCollection(crossSellProjection, CROSS_SELL_SKUS);
const ORDER_DOCS = physicalCollection(crossSellProjection, CROSS_SELL_ORDERS);
const TOTAL_DOCS = physicalCollection(crossSellProjection, CROSS_SELL_TOTALS);
const HOUR_MS = 3_600_000;
const PRIORITY_BASES = ['current', 'filing'] as const;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

const round = (value: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};

/** Median of a non-empty list; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function plus(a: Money, b: Money): Money {
  const scale = Math.max(a.scale, b.scale);
  return add(rescale(a, scale), rescale(b, scale));
}

function minus(a: Money, b: Money): Money {
  const scale = Math.max(a.scale, b.scale);
  return subtract(rescale(a, scale), rescale(b, scale));
}

function monthParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!MONTH.test(value)) throw problems.validation([{ field: name, messages: [`${name} must be a month, YYYY-MM`] }]);
  return value;
}

interface SlaRow {
  complaints: number;
  breached: number;
  firstResponseBreached: number;
  resolutionBreached: number;
  resolved: number;
  hoursToResolve: number[];
}

function slaFigures(row: SlaRow): Record<string, unknown> {
  const medianHours = median(row.hoursToResolve);
  return {
    complaints: row.complaints,
    breached: row.breached,
    breachRatio: row.complaints === 0 ? null : round(row.breached / row.complaints, 4),
    firstResponseBreached: row.firstResponseBreached,
    resolutionBreached: row.resolutionBreached,
    resolved: row.resolved,
    medianHoursToResolve: medianHours === null ? null : round(medianHours, 2),
  };
}

/** Analytics over the read models (definitions: docs/analytics.md). */
@ApiTags('analytics')
@ApiBearerAuth()
@Controller('analytics')
@Roles('analyst', 'admin', 'auditor', 'agent')
export class AnalyticsController {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    private readonly gate: ReadModelGate,
  ) {}

  @Get('sla')
  @ApiOperation({ summary: 'SLA performance per priority of the complaints filed in [from, to): breach ratio, median hours to resolve' })
  @ApiQuery({ name: 'from', required: false, description: 'Filed at or after (date or date-time with zone)' })
  @ApiQuery({ name: 'to', required: false, description: 'Filed before' })
  @ApiQuery({ name: 'priorityAt', required: false, enum: PRIORITY_BASES, description: 'Count each complaint under its current priority (default) or the one it was filed with' })
  @ApiQuery({ name: 'minPosition', required: false })
  async sla(
    @Query('from') fromParam: string | undefined,
    @Query('to') toParam: string | undefined,
    @Query('priorityAt') priorityAtParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
  ): Promise<unknown> {
    const priorityBasis = enumParam(priorityAtParam, 'priorityAt', PRIORITY_BASES) ?? 'current';
    const from = instantParam(fromParam, 'from');
    const to = instantParam(toParam, 'to');
    if (from && to && from >= to) throw problems.validation([{ field: 'to', messages: ['to must be after from'] }]);
    const asOfPosition = await this.gate.atLeast(complaintsProjection, minPosition);
    const range: { $gte?: string; $lt?: string } = {};
    if (from) range.$gte = from;
    if (to) range.$lt = to;
    const filter: DocQuery = from || to ? { filedAt: range } : {};
    const docs = (await this.store.find(COMPLAINT_DOCS, filter)) as ComplaintDoc[];
    const empty = (): SlaRow => ({ complaints: 0, breached: 0, firstResponseBreached: 0, resolutionBreached: 0, resolved: 0, hoursToResolve: [] });
    const rows = new Map<string, SlaRow>(PRIORITIES.map((p) => [p, empty()]));
    const all = empty();
    for (const doc of docs) {
      const priority = priorityBasis === 'filing' ? (doc.filingPriority ?? doc.priority) : doc.priority;
      let row = rows.get(priority);
      if (!row) rows.set(priority, (row = empty()));
      for (const r of [row, all]) {
        r.complaints += 1;
        if (doc.breaches.length > 0) r.breached += 1;
        if (doc.breaches.some((b) => b.kind === 'first-response')) r.firstResponseBreached += 1;
        if (doc.breaches.some((b) => b.kind === 'resolution')) r.resolutionBreached += 1;
        if (doc.resolvedAt) {
          r.resolved += 1;
          r.hoursToResolve.push((Date.parse(doc.resolvedAt) - Date.parse(doc.filedAt)) / HOUR_MS);
        }
      }
    }
    return {
      from: from ?? null,
      to: to ?? null,
      // Which priority a complaint counts under when it changed (issue 16): its current one unless asked otherwise.
      priorityBasis,
      items: [...rows.entries()].map(([priority, row]) => ({ priority, ...slaFigures(row) })),
      total: slaFigures(all),
      asOfPosition,
    };
  }

  @Get('revenue')
  @ApiOperation({ summary: 'Revenue per month (or year) and currency: gross purchases, returns in that period, net' })
  @ApiQuery({ name: 'by', required: false, enum: ['month', 'year'] })
  @ApiQuery({ name: 'from', required: false, description: 'First month, YYYY-MM (inclusive)' })
  @ApiQuery({ name: 'to', required: false, description: 'Last month, YYYY-MM (inclusive)' })
  @ApiQuery({ name: 'currency', required: false }) @ApiQuery({ name: 'minPosition', required: false })
  async revenue(
    @Query('by') byParam: string | undefined,
    @Query('from') fromParam: string | undefined,
    @Query('to') toParam: string | undefined,
    @Query('currency') currencyParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
  ): Promise<unknown> {
    const by = enumParam(byParam, 'by', ['month', 'year'] as const) ?? 'month';
    const from = monthParam(fromParam, 'from');
    const to = monthParam(toParam, 'to');
    if (from && to && from > to) throw problems.validation([{ field: 'to', messages: ['to must not be before from'] }]);
    if (currencyParam !== undefined && !/^[A-Za-z]{3}$/.test(currencyParam)) {
      throw problems.validation([{ field: 'currency', messages: ['currency must be a three-letter code'] }]);
    }
    const asOfPosition = await this.gate.atLeast(monthlyRevenueProjection, minPosition);
    const filter: Record<string, DocQuery[string]> = {};
    const range: { $gte?: string; $lte?: string } = {};
    if (from) range.$gte = from;
    if (to) range.$lte = to;
    if (from || to) filter['period'] = range;
    if (currencyParam) filter['currency'] = currencyParam.toUpperCase();
    const docs = (await this.store.find(REVENUE_DOCS, filter, { sort: [['period', 1], ['currency', 1]] })) as MonthlyRevenueDoc[];
    const periods = new Map<string, { period: string; currency: string; gross: Money; returns: Money; orders: number; returnCount: number }>();
    const totals = new Map<string, { gross: Money; returns: Money }>();
    for (const d of docs) {
      const period = by === 'year' ? d.period.slice(0, 4) : d.period;
      const key = `${period}:${d.currency}`;
      const p = periods.get(key);
      periods.set(key, p
        ? { ...p, gross: plus(p.gross, d.gross), returns: plus(p.returns, d.returns), orders: p.orders + d.orders, returnCount: p.returnCount + d.returnCount }
        : { period, currency: d.currency, gross: d.gross, returns: d.returns, orders: d.orders, returnCount: d.returnCount });
      const t = totals.get(d.currency);
      totals.set(d.currency, t ? { gross: plus(t.gross, d.gross), returns: plus(t.returns, d.returns) } : { gross: d.gross, returns: d.returns });
    }
    const asMoneyRow = (gross: Money, returns: Money): { gross: string; returns: string; net: string } => {
      const scale = Math.max(gross.scale, returns.scale);
      return { gross: formatMoney(rescale(gross, scale)), returns: formatMoney(rescale(returns, scale)), net: formatMoney(minus(gross, returns)) };
    };
    return {
      by,
      items: [...periods.values()].map((p) => ({
        period: p.period, currency: p.currency, ...asMoneyRow(p.gross, p.returns), orders: p.orders, returnCount: p.returnCount,
      })),
      totals: [...totals.entries()].map(([currency, t]) => ({ currency, ...asMoneyRow(t.gross, t.returns) })),
      asOfPosition,
    };
  }

  @Get('cross-sell')
  @ApiOperation({ summary: 'Skus bought in the same orders as `sku`: support, confidence and lift of each pair' })
  @ApiQuery({ name: 'sku', required: true }) @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'minOrders', required: false, description: 'Only pairs seen together in at least this many orders (default 1)' })
  @ApiQuery({ name: 'minPosition', required: false })
  async crossSell(
    @Query('sku') sku: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @Query('minOrders') minOrdersParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
  ): Promise<unknown> {
    if (sku === undefined || sku === '') throw problems.validation([{ field: 'sku', messages: ['sku is required'] }]);
    const limit = intParam(limitParam, 'limit', 10, 1, 500);
    const minOrders = intParam(minOrdersParam, 'minOrders', 1, 1, 1_000_000);
    const asOfPosition = await this.gate.atLeast(crossSellProjection, minPosition);
    const [skuDoc, totalsDoc] = (await Promise.all([this.store.get(SKU_DOCS, sku), this.store.get(TOTAL_DOCS, CROSS_SELL_TOTALS_ID)])) as [
      CrossSellSkuDoc | null, CrossSellTotalsDoc | null,
    ];
    const totalOrders = totalsDoc?.orderCount ?? 0;
    const withSku = orderIdsOf(skuDoc);
    const together = new Map<string, number>();
    const orders = await this.store.getMany(ORDER_DOCS, withSku);
    for (const order of orders.values()) {
      for (const other of (order as CrossSellOrderDoc).skus) {
        if (other !== sku) together.set(other, (together.get(other) ?? 0) + 1);
      }
    }
    const candidates = [...together.entries()].filter(([, n]) => n >= minOrders);
    const others = await this.store.getMany(SKU_DOCS, candidates.map(([other]) => other));
    const items = candidates.map(([other, both]) => {
      const ordersWithOther = (others.get(other) as CrossSellSkuDoc | undefined)?.orderCount ?? both;
      const confidence = both / withSku.length;
      return {
        sku: other,
        orders: both,
        support: round(both / totalOrders, 6),
        confidence: round(confidence, 6),
        lift: round(confidence / (ordersWithOther / totalOrders), 4),
      };
    });
    items.sort((a, b) => b.confidence - a.confidence || b.lift - a.lift || (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
    return {
      sku,
      orders: withSku.length,
      totalOrders,
      support: totalOrders === 0 ? 0 : round(withSku.length / totalOrders, 6),
      items: items.slice(0, limit),
      asOfPosition,
    };
  }
}
