import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { formatMoney, pointsFor, purchaseIntervals, quintileScore, tierFor, type LoyaltyPolicy, type Money } from '@crm/domain';
import {
  CUSTOMER_PROFILES, customerProfilesProjection, LOYALTY, LOYALTY_POLICY_IN_FORCE, loyaltyProjection, physicalCollection, POLICY_DOC,
  READ_MODEL_STORE, valuationOf, type LoyaltyDoc, type LoyaltyPolicyDoc, type LoyaltyValuation, type ReadModelStore,
} from '@crm/read-models';
import { CurrentPrincipal, Roles, type Principal } from '../auth/principal';
import { assertMayActFor } from '../commands/self-service';
import { IdParam } from '../http/id-param';
import { CLOCK, type Clock } from '@crm/runtime';
import { LOYALTY_POLICY } from '@crm/runtime';
import { ReadModelGate } from '../read-side/read-model-gate';
import { requireCustomer } from './customer-queries.controller';
import { enumParam, instantParam, intParam, MinPosition } from './query-params';

const DOCS = physicalCollection(loyaltyProjection, LOYALTY);
const PROFILES = physicalCollection(customerProfilesProjection, CUSTOMER_PROFILES);
const POLICY_DOCS = physicalCollection(loyaltyProjection, LOYALTY_POLICY_IN_FORCE);
const DAY_MS = 86_400_000;

const money = (m: Money | undefined, currency: string): { amount: string; currency: string } => ({
  amount: m ? formatMoney(m) : '0.00',
  currency,
});

const unconvertedOf = (v: LoyaltyValuation): Array<{ currency: string; amount: string }> =>
  v.unconverted.map((m) => ({ currency: m.currency, amount: formatMoney(m) }));

/**
 * The policy points and RFM monetary are figured under, as of the read model's position: the published version the
 * loyalty projection applied last (so figures and version always match), else the configured one.
 */
interface PolicyInForce {
  readonly policy: LoyaltyPolicy;
  /** Published: documents carry their valuation under it (`valued`); configured: valued here, from spend per day. */
  readonly published: boolean;
  /** Field holding the converted net spend as a number (sort key of top spenders and RFM monetary). */
  readonly sortField: string;
  valuation(doc: LoyaltyDoc): LoyaltyValuation;
}

@ApiTags('loyalty')
@ApiBearerAuth()
@Controller()
export class LoyaltyController {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    private readonly gate: ReadModelGate,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOYALTY_POLICY) private readonly policy: LoyaltyPolicy,
  ) {}

  private async policyInForce(): Promise<PolicyInForce> {
    const doc = (await this.store.get(POLICY_DOCS, POLICY_DOC)) as LoyaltyPolicyDoc | null;
    if (doc) {
      const policy = doc.policy;
      return { policy, published: true, sortField: 'valued.value', valuation: (d) => d.valued ?? valuationOf(policy, d.netByDay) };
    }
    const policy = this.policy;
    return { policy, published: false, sortField: `netValue.${policy.currency}`, valuation: (d) => valuationOf(policy, d.netByDay) };
  }

  @Get('customers/:id/loyalty')
  @Roles('agent', 'admin', 'analyst', 'auditor', 'customer')
  @ApiOperation({ summary: 'Points, tier, RFM values and 1–5 scores, purchase intervals' })
  @ApiQuery({ name: 'referenceDate', required: false, description: 'Recency is counted to this date (default now)' })
  @ApiQuery({ name: 'minPosition', required: false })
  async loyalty(
    @IdParam('id') id: string,
    @Query('referenceDate') referenceParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
    @CurrentPrincipal() who: Principal,
  ): Promise<unknown> {
    assertMayActFor(who, id);
    const reference = instantParam(referenceParam, 'referenceDate') ?? this.clock.now().toISOString();
    const asOfPosition = await this.gate.atLeast(loyaltyProjection, minPosition);
    const doc = (await this.store.get(DOCS, id)) as LoyaltyDoc | null;
    if (!doc) await requireCustomer(this.store, id);
    return { customerId: id, ...(await this.summarize(doc, reference)), asOfPosition };
  }

  @Get('loyalty/top')
  @Roles('agent', 'admin', 'analyst', 'auditor')
  @ApiOperation({ summary: 'Top customers by net spend (monetary) or points' })
  @ApiQuery({ name: 'by', required: false, enum: ['monetary', 'points'] }) @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'minPosition', required: false })
  async top(
    @Query('by') byParam: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
    @CurrentPrincipal() who: Principal,
  ): Promise<unknown> {
    // Analysts get no personal data: neither the name nor the source-system id that identifies the person there.
    const showNames = who.role !== 'analyst';
    const by = enumParam(byParam, 'by', ['monetary', 'points'] as const) ?? 'monetary';
    const limit = intParam(limitParam, 'limit', 10, 1, 500);
    const asOfPosition = await this.gate.atLeast(loyaltyProjection, minPosition);
    const inForce = await this.policyInForce();
    const { policy, sortField: field } = inForce;
    // Points are a monotone function of converted net spend, so both orders are the same index walk.
    const docs = (await this.store.find(DOCS, { [field]: { $gt: 0 } }, { sort: [[field, -1]], limit })) as LoyaltyDoc[];
    const names = await this.store.getMany(PROFILES, docs.map((d) => d.customerId));
    return {
      by,
      currency: policy.currency,
      policyVersion: policy.version,
      items: docs.map((d, i) => {
        const valued = inForce.valuation(d);
        const points = pointsFor(policy, valued.net);
        return {
          rank: i + 1,
          customerId: d.customerId,
          ...(showNames ? { name: names.get(d.customerId)?.['name'] ?? null, externalRef: names.get(d.customerId)?.['externalRef'] ?? null } : {}),
          monetary: money(valued.net, policy.currency),
          unconverted: unconvertedOf(valued),
          points,
          tier: tierFor(policy, points),
          orders: d.orderCount,
        };
      }),
      asOfPosition,
    };
  }

  private async summarize(doc: LoyaltyDoc | null, reference: string): Promise<Record<string, unknown>> {
    const inForce = await this.policyInForce();
    const { policy } = inForce;
    const currency = policy.currency;
    const valued = doc ? inForce.valuation(doc) : valuationOf(policy, {});
    const points = pointsFor(policy, valued.net);
    const orders = doc?.orderCount ?? 0;
    const base = {
      policyVersion: policy.version,
      currency,
      points,
      tier: tierFor(policy, points),
      spend: Object.fromEntries(Object.entries(doc?.spend ?? {}).map(([c, s]) => [c, { gross: formatMoney(s.gross), returns: formatMoney(s.returns), net: formatMoney(s.net) }])),
      unconverted: unconvertedOf(valued),
      orders,
      returns: doc?.returnCount ?? 0,
      referenceDate: reference,
    };
    if (!doc || orders === 0) {
      return { ...base, rfm: null, purchaseIntervals: purchaseIntervals([]) };
    }
    const field = inForce.sortField;
    const value = inForce.published ? valued.value : doc.netValue[currency];
    const buyers = { orderCount: { $gt: 0 } } as const;
    const [total, olderPurchases, fewerOrders, lessSpend] = await Promise.all([
      this.store.count(DOCS, buyers),
      this.store.count(DOCS, { ...buyers, lastPurchaseAt: { $lt: doc.lastPurchaseAt } }),
      this.store.count(DOCS, { orderCount: { $gt: 0, $lt: orders } }),
      this.store.count(DOCS, { ...buyers, [field]: { $lt: value ?? 0 } }),
    ]);
    const lessSpendCount = value === undefined ? 0 : lessSpend;
    const recencyDays = Math.max(0, Math.floor((Date.parse(reference) - Date.parse(doc.lastPurchaseAt)) / DAY_MS));
    const scores = { recency: quintileScore(olderPurchases, total), frequency: quintileScore(fewerOrders, total), monetary: quintileScore(lessSpendCount, total) };
    return {
      ...base,
      rfm: {
        recencyDays,
        frequency: orders,
        monetary: money(valued.net, currency),
        scores,
        segment: `${scores.recency}${scores.frequency}${scores.monetary}`,
        customersScored: total,
      },
      firstPurchaseAt: doc.firstPurchaseAt,
      lastPurchaseAt: doc.lastPurchaseAt,
      purchaseIntervals: purchaseIntervals(doc.orders.map((o) => o.occurredAt)),
    };
  }
}
