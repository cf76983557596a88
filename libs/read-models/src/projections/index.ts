import type { Projection } from '../projection/projection';
import { complaintsProjection } from './complaints.projection';
import { crossSellProjection } from './cross-sell.projection';
import { customerMergesProjection } from './customer-merges.projection';
import { customerProfilesProjection } from './customer-profiles.projection';
import { customerStreamsProjection } from './customer-streams.projection';
import { customerTimelineProjection } from './customer-timeline.projection';
import { followUpsProjection } from './follow-ups.projection';
import { loyaltyProjection } from './loyalty.projection';
import { monthlyRevenueProjection } from './monthly-revenue.projection';
import { slaBreachesProjection } from './sla-breaches.projection';

export * from './complaints.projection';
export * from './cross-sell.projection';
export * from './customer-merges.projection';
export * from './merged-views';
export * from './customer-profiles.projection';
export * from './customer-streams.projection';
export * from './customer-timeline.projection';
export * from './follow-ups.projection';
export * from './loyalty.projection';
export * from './monthly-revenue.projection';
export * from './sla-breaches.projection';
export { normalizeForSearch, digitsOnly } from './crm-event';

/** Every projection the product runs, in no particular order (each has its own checkpoint). */
export const ALL_PROJECTIONS: readonly Projection[] = [
  customerProfilesProjection,
  customerTimelineProjection,
  loyaltyProjection,
  complaintsProjection,
  slaBreachesProjection,
  followUpsProjection,
  customerStreamsProjection,
  monthlyRevenueProjection,
  crossSellProjection,
  customerMergesProjection,
];
