import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiEnumQuery, ApiInstantQuery, ApiIntQuery, ApiProblems, ApiReadModel } from '../http/openapi/api-decorators';
import { LoyaltyView, TopCustomers } from './loyalty.responses';
import { formatMoney, pointsFor, purchaseIntervals, quintileScore, tierFor, type LoyaltyPolicy, type Money } from '@crm/domain';
import {
  combineLoyalty, CUSTOMER_PROFILES, customerMergesProjection, customerProfilesProjection, LOYALTY, LOYALTY_POLICY_IN_FORCE,
  loyaltyProjection, mergeAliasOf, mergeGroups, physicalCollection, POLICY_DOC, READ_MODEL_STORE, valuationOf, groupIds,
  type LoyaltyDoc, type LoyaltyPolicyDoc, type LoyaltyValuation, type ReadModelStore,
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
  @ApiReadModel(LoyaltyView) @ApiProblems('customer-not-found')
  @ApiInstantQuery('referenceDate', 'Recency is counted to this date (default now)')
  async loyalty(
    @IdParam('id') id: string,
    @Query('referenceDate') referenceParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
    @CurrentPrincipal() who: Principal,
  ): Promise<LoyaltyView> {
    assertMayActFor(who, id);
    const reference = instantParam(referenceParam, 'referenceDate') ?? this.clock.now().toISOString();
    const asOfPosition = await this.gate.atLeast(loyaltyProjection, minPosition);
    await this.gate.atLeast(customerMergesProjection, minPosition);
    // A survivor's points and RFM count its duplicates' orders as its own.
    const ids = groupIds(id, await mergeAliasOf(this.store, id));
    const doc = combineLoyalty(id, [...(await this.store.getMany(DOCS, ids)).values()] as LoyaltyDoc[]);
    if (!doc) {
      // No loyalty document: the customer has no orders, or does not exist. Whether they exist is the profiles' to say,
      // once those have applied `minPosition` too: the loyalty projection skips registrations and may stand past a
      // new customer's before the profiles have it (a console opening the customer it just created got a 404).
      await this.gate.atLeast(customerProfilesProjection, minPosition);
      await requireCustomer(this.store, id);
    }
    return { customerId: id, ...(await this.summarize(doc, reference)), asOfPosition };
  }

  @Get('loyalty/top')
  @Roles('agent', 'admin', 'analyst', 'auditor')
  @ApiOperation({ summary: 'Top customers by net spend (monetary) or points' })
  @ApiReadModel(TopCustomers)
  @ApiEnumQuery('by', ['monetary', 'points'], { default: 'monetary' }) @ApiIntQuery('limit', { min: 1, max: 500, default: 10 })
  async top(
    @Query('by') byParam: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
    @CurrentPrincipal() who: Principal,
  ): Promise<TopCustomers> {
    // Analysts get no personal data: neither the name nor the source-system id that identifies the person there.
    const showNames = who.role !== 'analyst';
    const by = enumParam(byParam, 'by', ['monetary', 'points'] as const) ?? 'monetary';
    const limit = intParam(limitParam, 'limit', 10, 1, 500);
    const asOfPosition = await this.gate.atLeast(loyaltyProjection, minPosition);
    await this.gate.atLeast(customerMergesProjection, minPosition);
    const inForce = await this.policyInForce();
    const { policy, sortField: field } = inForce;
    // Points are a monotone function of converted net spend, so both orders are the same index walk.
    const docs = await this.topThroughMerges(field, limit, inForce);
    // The names come from the profiles: read-your-writes holds for them as for the figures.
    if (showNames) await this.gate.atLeast(customerProfilesProjection, minPosition);
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
          ...(showNames
            ? { name: (names.get(d.customerId)?.['name'] as string | undefined) ?? null, externalRef: (names.get(d.customerId)?.['externalRef'] as string | null | undefined) ?? null }
            : {}),
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

  /**
   * The top list with each merged group as one customer (its survivor): the groups' combined documents are computed
   * (merges are few), every other customer's document is its own, and enough of the index is read to fill `limit`
   * after the duplicates it contains are dropped. A group's value is its combined spend per day valued under the
   * policy in force (its members' stored valuations are per member).
   */
  private async topThroughMerges(field: string, limit: number, inForce: PolicyInForce): Promise<LoyaltyDoc[]> {
    const groups = await mergeGroups(this.store);
    const grouped = new Set(groups.flatMap((g) => [g.survivorId, ...g.duplicates]));
    const singles = (await this.store.find(DOCS, { [field]: { $gt: 0 } }, { sort: [[field, -1]], limit: limit + grouped.size })) as LoyaltyDoc[];
    if (groups.length === 0) return singles;
    const value = (d: LoyaltyDoc): number => inForce.valuation(d).value;
    const combined: LoyaltyDoc[] = [];
    for (const g of groups) {
      const members = [...(await this.store.getMany(DOCS, [g.survivorId, ...g.duplicates])).values()] as LoyaltyDoc[];
      const doc = combineLoyalty(g.survivorId, members);
      if (doc && value(doc) > 0) combined.push(doc);
    }
    return [...singles.filter((d) => !grouped.has(d.customerId)), ...combined]
      .sort((a, b) => value(b) - value(a)) // stable: ties keep the index's order
      .slice(0, limit);
  }

  private async summarize(doc: LoyaltyDoc | null, reference: string): Promise<Omit<LoyaltyView, 'customerId' | 'asOfPosition'>> {
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
