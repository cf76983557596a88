import { afterEach, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeSlaDeadlines, DEFAULT_SLA_POLICY, SLA_POLICIES_STREAM, type SlaPolicy } from '@crm/domain';
import { InMemoryEventStore } from '@crm/event-store';
import { makeTempDir } from '../../../test/support/temp-dir';
import { INCIDENT_COLUMNS } from './incidents-import';
import { runImport } from './run-import';

const NINE_TO_FIVE = [['09:00', '17:00']] as const;
const PUBLISHED: SlaPolicy = {
  ...DEFAULT_SLA_POLICY,
  version: 'sla-import-business-7f3a',
  timezone: 'Europe/Vilnius',
  businessHours: { mon: NINE_TO_FIVE, tue: NINE_TO_FIVE, wed: NINE_TO_FIVE, thu: NINE_TO_FIVE, fri: NINE_TO_FIVE },
  targets: { ...DEFAULT_SLA_POLICY.targets, P3: { firstResponseMinutes: 480, resolutionMinutes: 2400, calendar: 'business' } },
};

function csv(rows: Array<Record<string, string>>): string {
  const base: Record<string, string> = {
    number: 'INC0000473', caller_id: 'Caller 3136', opened_at: '4/3/2016 16:00', contact_type: 'Phone', category: 'Category 37',
    subcategory: 'Subcategory 174', u_symptom: 'Symptom 491', priority: '3 - Moderate', assigned_to: '?', resolved_at: '?',
    closed_at: '?', made_sla: 'true', incident_state: 'New', sys_updated_at: '4/3/2016 16:05',
  };
  return [INCIDENT_COLUMNS.join(','), ...rows.map((r) => INCIDENT_COLUMNS.map((c) => ({ ...base, ...r })[c] ?? '').join(','))].join('\n');
}

describe('the importer files complaints under the SLA policy in force', () => {
  const tmp = makeTempDir('crm-import-sla-policy-');
  afterEach(() => tmp.remove());

  it('uses the version last published to the log, with its business calendar, not the configured one', async () => {
    const store = new InMemoryEventStore(() => new Date('2026-12-01T00:00:00.000Z'));
    await store.appendToStream(SLA_POLICIES_STREAM, [{
      eventId: 'published-1', type: 'SlaPolicyPublished', metadata: {},
      data: { policy: PUBLISHED, publishedAt: '2026-11-30T00:00:00.000Z', publishedBy: 'admin-1' },
    }]);
    const file = join(tmp.dir, 'incidents.csv');
    writeFileSync(file, `${csv([{}])}\n`);

    await runImport({ kind: 'incidents', file, dataDir: join(tmp.dir, 'data'), eventStore: store, env: { SQLITE_SYNCHRONOUS: 'NORMAL' } });

    const filed = (await store.readAll()).filter((e) => e.type === 'ComplaintFiled');
    expect(filed).toHaveLength(1);
    const data = filed[0]?.data as { filedAt: string; priority: string; sla: unknown };
    expect(data.priority).toBe('P3');
    expect(data.sla).toEqual(computeSlaDeadlines(PUBLISHED, 'P3', new Date(data.filedAt)));
    expect(data.sla).toMatchObject({ policyVersion: 'sla-import-business-7f3a' });
    expect(data.sla).not.toEqual(computeSlaDeadlines({ ...DEFAULT_SLA_POLICY, version: PUBLISHED.version }, 'P3', new Date(data.filedAt)));
  });
});
