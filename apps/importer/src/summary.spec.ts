import { describe, expect, it } from '@jest/globals';
import { formatSummary, type ImportSummary } from './summary';

describe('formatSummary', () => {
  const summary: ImportSummary = {
    kind: 'incidents', file: '/data/log.csv', rows: 10, elapsedMs: 1000, rowsPerSecond: 10, counts: { complaintsFiled: 2 }, skipped: {},
    notes: {
      incidents: 2,
      steps: { priority: { imported: 0, notImported: 3 }, reopen: { imported: 1, notImported: 0 } },
      madeSlaAgreement: { compared: 2, agreed: 1, ratio: 0.5 },
    },
    eventsAppended: 7, rejectedRows: 0, rejectsFile: null, peakRssMb: 100,
  };

  it('prints a table note (steps by kind) one line per row, and other notes as JSON', () => {
    const lines = formatSummary(summary).split('\n');
    expect(lines).toContain('    steps:');
    expect(lines).toContain(`      ${'priority'.padEnd(30)} imported 0, notImported 3`);
    expect(lines).toContain(`      ${'reopen'.padEnd(30)} imported 1, notImported 0`);
    expect(lines).toContain(`    ${'madeSlaAgreement'.padEnd(32)} {"compared":2,"agreed":1,"ratio":0.5}`);
  });
});
