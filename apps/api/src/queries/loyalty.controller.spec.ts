import { DEFAULT_LOYALTY_POLICY } from '@crm/domain';
import {
  CUSTOMER_MERGES, CUSTOMER_PROFILES, customerMergesProjection, customerProfilesProjection, LOYALTY, LOYALTY_POLICY_IN_FORCE,
  loyaltyProjection, physicalCollection, SqliteReadModelStore, type Projection,
} from '@crm/read-models';
import { ManualClock } from '@crm/runtime';
import type { Principal } from '../auth/principal';
import { ApiProblem } from '../http/problem';
import type { ReadModelGate } from '../read-side/read-model-gate';
import { LoyaltyController } from './loyalty.controller';

const PROFILES = physicalCollection(customerProfilesProjection, CUSTOMER_PROFILES);
const AGENT: Principal = { id: 'agent-1', role: 'agent' };

/**
 * Read-your-writes across read models: a customer without orders has no loyalty document, so whether they exist is
 * the profiles' to say. The loyalty projection skips registrations and can stand past a new customer's registration
 * before the profiles have applied it.
 */
describe('LoyaltyController.loyalty of a customer just registered', () => {
  let store: SqliteReadModelStore;
  let asked: string[];
  let controller: LoyaltyController;

  beforeEach(async () => {
    store = new SqliteReadModelStore(':memory:');
    for (const [projection, name] of [[customerProfilesProjection, CUSTOMER_PROFILES], [loyaltyProjection, LOYALTY],
      [loyaltyProjection, LOYALTY_POLICY_IN_FORCE], [customerMergesProjection, CUSTOMER_MERGES]] as Array<[Projection, string]>) {
      await store.ensureCollection(physicalCollection(projection, name), []);
    }
    asked = [];
    // Given the loyalty and merge read models at position 5 at once, and the profiles reaching 5 (the registration of
    // cust-new) only when a query waits for them.
    const gate = {
      atLeast: async (projection: Projection, minPosition: number | undefined): Promise<number> => {
        asked.push(`${projection.name}@${String(minPosition)}`);
        if (projection.name === customerProfilesProjection.name && minPosition !== undefined) {
          await store.applyBatch([{ collection: PROFILES, id: 'cust-new', doc: { _id: 'cust-new', customerId: 'cust-new', name: 'New', _position: 5 }, position: 5 }], { projection: 'profiles-test', position: 5 });
        }
        return 5;
      },
    } as unknown as ReadModelGate;
    controller = new LoyaltyController(store, gate, new ManualClock(new Date('2026-12-07T10:00:00Z')), DEFAULT_LOYALTY_POLICY);
  });
  afterEach(async () => {
    await store.close();
  });

  it('answers with no points once the profiles have applied minPosition, not customer-not-found', async () => {
    // When
    const view = await controller.loyalty('cust-new', undefined, 5, AGENT);
    // Then
    expect(view).toMatchObject({ customerId: 'cust-new', points: 0, asOfPosition: 5 });
    expect(asked).toContain(`${customerProfilesProjection.name}@5`);
  });

  it('still answers customer-not-found for an id the profiles do not have at that position', async () => {
    const outcome = await controller.loyalty('cust-unknown', undefined, 5, AGENT).catch((error: unknown) => error);
    expect(outcome instanceof ApiProblem ? { status: outcome.status, type: outcome.type } : outcome).toEqual({ status: 404, type: 'customer-not-found' });
  });
});
