import { COMPLAINTS, complaintsProjection, CUSTOMER_MERGES, customerMergesProjection, physicalCollection, SqliteReadModelStore, type Doc, type ReadModelStore } from '@crm/read-models';
import { ManualClock } from '@crm/runtime';
import type { Principal } from '../auth/principal';
import { ApiProblem } from '../http/problem';
import type { ReadModelGate } from '../read-side/read-model-gate';
import { ComplaintQueriesController } from './complaint-queries.controller';

const COLLECTION = physicalCollection(complaintsProjection, COMPLAINTS);
const CUSTOMER: Principal = { id: 'portal-me', role: 'customer', customerId: 'cust-me' };

/**
 * GET /complaints/:id for a customer: another customer's complaint and an unknown id must take the same path. What
 * the store hands back is the work the request does: a document loaded and then refused is work an unknown id does
 * not cause (it showed in Server-Timing), so no document of another customer may be loaded at all.
 */
describe('ComplaintQueriesController.one for a customer', () => {
  let inner: SqliteReadModelStore;
  let loaded: Doc[];
  let controller: ComplaintQueriesController;

  beforeEach(async () => {
    inner = new SqliteReadModelStore(':memory:');
    await inner.ensureCollection(COLLECTION, complaintsProjection.collections[0]?.indexes ?? []);
    // The merge alias map a customer's lookup reads (a survivor sees its duplicates' complaints): empty here.
    await inner.ensureCollection(physicalCollection(customerMergesProjection, CUSTOMER_MERGES), []);
    await inner.applyBatch([
      { collection: COLLECTION, id: 'cmp-mine', doc: { _id: 'cmp-mine', complaintId: 'cmp-mine', customerId: 'cust-me', _position: 1 }, position: 1 },
      { collection: COLLECTION, id: 'cmp-other', doc: { _id: 'cmp-other', complaintId: 'cmp-other', customerId: 'cust-other', _position: 2 }, position: 2 },
    ], { projection: 'test', position: 2 });
    loaded = [];
    const recording: ReadModelStore = Object.assign(Object.create(inner) as ReadModelStore, {
      get: async (collection: string, id: string) => {
        const doc = await inner.get(collection, id);
        if (doc) loaded.push(doc);
        return doc;
      },
      find: async (...args: Parameters<ReadModelStore['find']>) => {
        const docs = await inner.find(...args);
        loaded.push(...docs);
        return docs;
      },
    });
    const gate = { atLeast: async () => 2 } as unknown as ReadModelGate;
    controller = new ComplaintQueriesController(recording, gate, new ManualClock(new Date('2026-11-23T10:00:00Z')));
  });
  afterEach(async () => {
    await inner.close();
  });

  const outcome = async (id: string): Promise<unknown> => {
    try {
      return await controller.one(id, undefined, CUSTOMER);
    } catch (error) {
      return error instanceof ApiProblem ? { status: error.status, type: error.type } : error;
    }
  };

  it("loads no document for another customer's complaint, exactly as for an unknown id", async () => {
    expect(await outcome('cmp-other')).toEqual({ status: 404, type: 'complaint-not-found' });
    expect(loaded).toEqual([]);
    expect(await outcome('cmp-nobody')).toEqual({ status: 404, type: 'complaint-not-found' });
    expect(loaded).toEqual([]);
  });

  it('finds its own complaint', async () => {
    expect(await outcome('cmp-mine')).toMatchObject({ id: 'cmp-mine', complaintId: 'cmp-mine', customerId: 'cust-me' });
  });

  it('staff still read any complaint by id', async () => {
    expect(await controller.one('cmp-other', undefined, { id: 'agent-ana', role: 'agent' })).toMatchObject({ complaintId: 'cmp-other' });
  });
});
