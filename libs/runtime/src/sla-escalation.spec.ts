import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { complaintStream, DEFAULT_SLA_POLICY, makeComplaintDecider, schemaVersionOf, type SlaPolicy } from '@crm/domain';
import { eventMetadataFactory, handleCommand, InMemoryEventStore } from '@crm/event-store';
import {
  checkpointName, COMPLAINTS, complaintsProjection, physicalCollection, ProjectionRunner, ServingReadModelStore, SqliteReadModelStore,
} from '@crm/read-models';
import { Metrics } from './metrics';
import { SlaWatcher } from './sla-watcher';

/**
 * Escalation (issue 16, item 4) through the real watcher, complaints projection and decider: each step is appended
 * exactly once, also when two watchers race for it (the stream's expected revision) and after a restart (a new
 * watcher with no memory). P1 resolution target 240 minutes: the 75 % step falls due at 180, the 100 % one at 240.
 */
const POLICY: SlaPolicy = {
  ...DEFAULT_SLA_POLICY,
  escalations: [
    { name: 'warn-75', kind: 'resolution', atPercent: 75, notify: 'supervisor' },
    { name: 'at-breach', kind: 'resolution', atPercent: 100, notify: 'owner' },
  ],
};
const FILED_AT = new Date('2026-11-23T08:00:00.000Z');
const minutesAfterFiling = (minutes: number): Date => new Date(FILED_AT.getTime() + minutes * 60_000);

describe('SLA watcher: escalation steps', () => {
  let dir: string;
  let store: SqliteReadModelStore;
  let events: InMemoryEventStore;
  let runner: ProjectionRunner;
  let clock: Date;
  const decider = makeComplaintDecider({ slaPolicy: POLICY });
  const metrics = new Metrics();
  const escalationsCounted: string[] = [];
  const complaintId = `esc-${randomUUID()}`;

  const watcher = (): SlaWatcher =>
    new SlaWatcher(events, new ServingReadModelStore(store, runner.registry), decider, {
      now: () => clock,
      newEventId: () => randomUUID(),
      onEscalation: (step, priority) => {
        escalationsCounted.push(`${step}/${priority}`);
        metrics.slaEscalations.inc({ step, priority });
      },
    });
  const boardCaughtUp = async (): Promise<void> => {
    const head = await events.headPosition();
    const deadline = Date.now() + 20_000;
    while (((await store.getCheckpoint(checkpointName(complaintsProjection)))?.position ?? 0) < head) {
      if (Date.now() > deadline) throw new Error('the complaints board did not catch up');
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const typesInStream = async (): Promise<string[]> => (await events.readStream(complaintStream(complaintId))).map((e) => e.type);
  const race = async (passes: number, ...watchers: SlaWatcher[]): Promise<void> => {
    for (let pass = 0; pass < passes; pass++) {
      await boardCaughtUp();
      await Promise.all(watchers.map((w) => w.checkOnce()));
    }
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crm-escalation-'));
    store = new SqliteReadModelStore(join(dir, 'read-models.db'));
    events = new InMemoryEventStore();
    await handleCommand(events, decider, {
      streamId: complaintStream(complaintId),
      command: {
        type: 'FileComplaint',
        data: { complaintId, customerId: 'cust-esc', channel: 'email', category: 'billing', priority: 'P1', description: 'd', ownerId: 'agent-1', occurredAt: FILED_AT.toISOString(), resolvedAtFirstContact: false },
      },
      now: () => FILED_AT,
      eventMetadata: eventMetadataFactory({ newEventId: () => randomUUID(), schemaVersionOf }),
      metadata: { correlationId: 'esc', causationId: 'esc', actor: { id: 'tester', role: 'agent' } },
    });
    runner = new ProjectionRunner(events, store, [complaintsProjection], { idlePollMs: 20 });
    await runner.start();
  });
  afterEach(async () => {
    await runner.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends each step once, when two watchers race and after a restart; the board and /metrics show them', async () => {
    const [a, b] = [watcher(), watcher()];
    clock = minutesAfterFiling(179);
    await race(2, a, b);
    expect((await typesInStream()).filter((t) => t === 'ComplaintEscalated')).toEqual([]);

    clock = minutesAfterFiling(181);
    await race(3, a, b);
    await race(2, watcher()); // a restarted watcher: no memory of what it did
    const escalated = (await events.readStream(complaintStream(complaintId))).filter((e) => e.type === 'ComplaintEscalated');
    expect(escalated.map((e) => e.data)).toEqual([expect.objectContaining({
      step: 'warn-75', kind: 'resolution', atPercent: 75, notify: 'supervisor', dueAt: minutesAfterFiling(180).toISOString(), priority: 'P1',
    })]);

    clock = minutesAfterFiling(241);
    await race(3, a, b);
    await race(2, watcher());
    const types = await typesInStream();
    expect(types.filter((t) => t === 'ComplaintEscalated')).toHaveLength(2);
    expect(types.filter((t) => t === 'SlaBreached')).toHaveLength(2); // first response at 60, resolution at 240
    expect(escalationsCounted.sort()).toEqual(['at-breach/P1', 'warn-75/P1']);

    await boardCaughtUp();
    const doc = await store.get(physicalCollection(complaintsProjection, COMPLAINTS), complaintId);
    expect(doc).toMatchObject({
      escalated: true,
      escalations: [
        { step: 'warn-75', notify: 'supervisor', escalatedAt: minutesAfterFiling(180).toISOString(), priority: 'P1' },
        { step: 'at-breach', notify: 'owner', escalatedAt: minutesAfterFiling(240).toISOString(), priority: 'P1' },
      ],
      nextEscalationDueAt: null,
      nextDueAt: null,
    });
    const text = await metrics.render();
    expect(text).toContain('crm_sla_escalations_recorded_total{step="warn-75",priority="P1"} 1');
    expect(text).toContain('crm_sla_escalations_recorded_total{step="at-breach",priority="P1"} 1');
  });

  it('brings the policy book up to the log before each pass, and decides nothing when that fails', async () => {
    // A complaint filed under a version another replica published moments ago must be decided under that version
    // (resumes recompute its deadlines from it), so each pass first refreshes the book (SlaWatcherOptions.beforePass).
    let refreshes = 0;
    let failing = true;
    const refreshing = new SlaWatcher(events, new ServingReadModelStore(store, runner.registry), decider, {
      now: () => clock, newEventId: () => randomUUID(),
      beforePass: async () => {
        refreshes++;
        if (failing) throw new Error('event log unavailable');
      },
    });
    clock = minutesAfterFiling(181);
    await boardCaughtUp();
    await expect(refreshing.checkOnce()).rejects.toThrow('event log unavailable');
    expect((await typesInStream()).filter((t) => t === 'ComplaintEscalated' || t === 'SlaBreached')).toEqual([]);
    failing = false;
    await refreshing.checkOnce();
    expect(refreshes).toBe(2);
    expect((await typesInStream()).filter((t) => t === 'ComplaintEscalated')).toEqual(['ComplaintEscalated']);
  });

  it('escalates nothing while the complaint waits for the customer, and at the moved time after it resumes', async () => {
    const meta = { correlationId: 'esc', causationId: 'esc', actor: { id: 'tester', role: 'agent' } };
    const command = async (c: Parameters<typeof decider.decide>[0], at: Date): Promise<void> => {
      await handleCommand(events, decider, {
        streamId: complaintStream(complaintId), command: c, now: () => at,
        eventMetadata: eventMetadataFactory({ newEventId: () => randomUUID(), schemaVersionOf }), metadata: meta,
      });
    };
    await command({ type: 'RespondToComplaint', data: { complaintId, message: 'on it', responderId: 'agent-1', occurredAt: minutesAfterFiling(10).toISOString() } }, minutesAfterFiling(10));
    await command({ type: 'AwaitCustomer', data: { complaintId, reason: 'asked for the invoice', occurredAt: minutesAfterFiling(60).toISOString() } }, minutesAfterFiling(60));
    const w = watcher();
    clock = minutesAfterFiling(300);
    await race(2, w);
    expect((await typesInStream()).filter((t) => t === 'ComplaintEscalated' || t === 'SlaBreached')).toEqual([]);

    // Waited 60 minutes: the 75 % step moves from 180 to 240.
    await command({ type: 'ResumeComplaint', data: { complaintId, reason: null, occurredAt: minutesAfterFiling(120).toISOString(), trigger: 'agent' } }, minutesAfterFiling(300));
    clock = minutesAfterFiling(239);
    await race(2, w);
    expect((await typesInStream()).filter((t) => t === 'ComplaintEscalated')).toEqual([]);
    clock = minutesAfterFiling(240);
    await race(2, w);
    const escalated = (await events.readStream(complaintStream(complaintId))).filter((e) => e.type === 'ComplaintEscalated');
    expect(escalated.map((e) => (e.data as { step: string; dueAt: string }))).toEqual([
      expect.objectContaining({ step: 'warn-75', dueAt: minutesAfterFiling(240).toISOString() }),
    ]);
  });
});
