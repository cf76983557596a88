import { join } from 'node:path';
import { SqliteEventStore } from '@crm/event-store';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/** A ContactLogged stored as schema v1 (legacy channel names) is read as v2 everywhere; its stored bytes stay. */
describe('schema evolution through upcasters', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('upcasts a stored v1 contact on the stream read, the timeline, the audit trail and the decider', async () => {
    const id = (await t.request('POST', '/customers', { body: { name: 'Legacy', kind: 'customer' } })).body.id as string;
    const raw = new SqliteEventStore({ filename: join(t.dataDir, 'events.db') });
    const legacy = await raw.appendToStream(`customer-${id}`, [{
      eventId: 'legacy-contact-1',
      type: 'ContactLogged',
      data: { customerId: id, contactId: 'legacy-1', channel: 'e-mail', direction: 'outbound', purpose: 'marketing', summary: 'newsletter', outcome: 'sent', occurredAt: '2026-11-22T09:00:00.000Z', agentId: 'old-crm' },
      metadata: { eventId: 'legacy-contact-1', correlationId: 'migration', causationId: 'migration', actor: { id: 'old-crm', role: 'agent' }, occurredAt: '2026-11-22T09:00:00.000Z', recordedAt: '2026-11-22T09:00:00.000Z', schemaVersion: 1 },
    }], { expectedRevision: 0 });
    await raw.close();

    const stream = await t.request('GET', `/streams/customer-${id}/events`);
    expect(stream.body.events[1].data.channel).toBe('email');
    expect(stream.body.events[1].metadata).toMatchObject({ schemaVersion: 2, storedSchemaVersion: 1 });

    const timeline = await t.request('GET', `/customers/${id}/timeline?minPosition=${legacy.position}`);
    expect(timeline.status).toBe(200);
    expect(timeline.body.items.map((e: { type: string }) => e.type)).toEqual(['CustomerRegistered', 'ContactLogged']);
    expect(timeline.body.items[1]).toMatchObject({ type: 'ContactLogged', data: { channel: 'email' }, summary: 'outbound email contact (marketing): sent' });
    const trail = await t.request('GET', `/customers/${id}/trail`, { token: TOKENS.auditor });
    expect(trail.body.events[1]).toMatchObject({ schemaVersion: 2, data: { channel: 'email' } });

    // The decider folds the upcast event: the legacy outbound contact counts against a cap of one per 7 days.
    await t.request('PUT', `/customers/${id}/contact-preferences`, { body: { maxContactsPer7Days: 1, doNotContact: false, channels: [] } });
    const capped = await t.request('POST', `/customers/${id}/contacts`, { body: { channel: 'email', direction: 'outbound', purpose: 'marketing', summary: 'again', outcome: 'sent' } });
    expect(capped.status).toBe(422);
    expect(capped.body.rule).toBe('rolling-7-day-cap');
    const inbound = await t.request('POST', `/customers/${id}/contacts`, { body: { channel: 'email', direction: 'inbound', purpose: 'support', summary: 'question', outcome: 'answered' } });
    expect(inbound.status).toBe(201);
    const written = (await t.request('GET', `/streams/customer-${id}/events`)).body.events.at(-1);
    expect(written.metadata).toMatchObject({ schemaVersion: 2 });
    expect(written.metadata.storedSchemaVersion).toBeUndefined();
  });
});
