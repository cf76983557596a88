import { randomUUID } from 'node:crypto';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { READ_MODEL_STORE, type ReadModelStore } from '@crm/read-models';
import { MERGE_RESUME_CHECKPOINT, MergeCustomersService } from '../../apps/api/src/customers/merge-customers.service';
import { expectStatus, startTestApp, TOKENS, type TestApp } from '../support/test-app';

/**
 * A merge spans two streams and cannot be appended atomically: the duplicate's step goes first. These tests leave
 * only that first step in the log, as a crash between the two appends would, and check that it is completed (by a
 * retry of the request, or at the next start) or undone when the survivor can no longer take it.
 */
describe('a merge cut between its two streams', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { READ_WAIT_MS: '30000' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const ok = expectStatus;
  /** A restart, and the pass that looks for half-done merges, which runs after the start. */
  const restarted = async (): Promise<void> => {
    await t.restart();
    await t.app.get(MergeCustomersService).settled();
  };
  const types = async (customerId: string): Promise<string[]> =>
    (await t.app.get<EventStore>(EVENT_STORE).readStream(`customer-${customerId}`)).map((e) => e.type);

  /** Registers both and appends the duplicate's half of a merge, as the first append of a crashed request. */
  async function halfMerged(tag: string): Promise<{ survivor: string; duplicate: string }> {
    const survivor = `surv-${tag}`;
    const duplicate = `dup-${tag}`;
    ok(await t.request('POST', '/customers', { body: { id: survivor, name: `Survivor ${tag}`, kind: 'customer' } }));
    ok(await t.request('POST', '/customers', { body: { id: duplicate, name: `Duplicate ${tag}`, kind: 'customer' } }));
    await t.app.get<EventStore>(EVENT_STORE).appendToStream(`customer-${duplicate}`, [{
      eventId: randomUUID(),
      type: 'CustomerMergedInto',
      data: { customerId: duplicate, survivorId: survivor, reason: 'crashed before the survivor step', mergedAt: '2026-11-23T10:00:00.000Z' },
      metadata: { actor: { id: 'agent-ana', role: 'agent' }, occurredAt: '2026-11-23T10:00:00.000Z' },
    }], { expectedRevision: 0 });
    return { survivor, duplicate };
  }

  it('is completed by a retry of the same merge (not refused as already merged)', async () => {
    const { survivor, duplicate } = await halfMerged('retry');
    const merged = ok(await t.request('POST', `/customers/${survivor}/merge`, { body: { duplicateId: duplicate, reason: 'retry' } }));
    expect(await types(survivor)).toEqual(['CustomerRegistered', 'CustomerMerged']);
    expect(await types(duplicate)).toEqual(['CustomerRegistered', 'CustomerMergedInto']);
    const view = ok(await t.request('GET', `/customers/${duplicate}?minPosition=${merged.body.position}`), 200).body;
    expect(view).toMatchObject({ mergedInto: survivor });
  });

  it('is completed at the next start, or undone when the survivor was erased meanwhile', async () => {
    const completed = await halfMerged('start');
    const abandoned = await halfMerged('gone');
    ok(await t.request('POST', `/customers/${abandoned.survivor}/erase`, { token: TOKENS.admin, body: { reason: 'request 8' } }));
    await restarted();
    expect(await types(completed.survivor)).toEqual(['CustomerRegistered', 'CustomerMerged']);
    expect(await types(abandoned.duplicate)).toEqual(['CustomerRegistered', 'CustomerMergedInto', 'CustomerUnmergedFrom']);
    // The completing step repeats the request's reason, and says who completed it.
    const [, completing] = await t.app.get<EventStore>(EVENT_STORE).readStream(`customer-${completed.survivor}`);
    expect(completing).toMatchObject({ data: { reason: 'crashed before the survivor step' }, metadata: { actor: { id: 'merge-resume', role: 'system' } } });
    // The next pass starts after every half-done step this one completed (the steps it appended are read again).
    const [, halfStep] = await t.app.get<EventStore>(EVENT_STORE).readStream(`customer-${abandoned.duplicate}`);
    const resumedTo = await t.app.get<ReadModelStore>(READ_MODEL_STORE).getCheckpoint(MERGE_RESUME_CHECKPOINT);
    expect(resumedTo?.position).toBeGreaterThanOrEqual(halfStep!.position);
    // The abandoned duplicate takes commands again; a further start changes nothing.
    ok(await t.request('PATCH', `/customers/${abandoned.duplicate}`, { body: { name: 'Free again' } }));
    await restarted();
    expect(await types(completed.survivor)).toEqual(['CustomerRegistered', 'CustomerMerged']);
    expect(await types(abandoned.duplicate)).toEqual(['CustomerRegistered', 'CustomerMergedInto', 'CustomerUnmergedFrom', 'CustomerProfileChanged']);
  });
});
