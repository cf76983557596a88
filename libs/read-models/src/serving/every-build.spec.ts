import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { ProjectedEvent, Projection } from '../projection/projection';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import type { Doc } from '../store/read-model-store.port';
import { applyToEveryBuild, buildsOf } from './every-build';

/** One document per note, one per person; `Forget` masks both, `Note` adds one. */
const notes: Projection = {
  name: 'notes',
  version: 2,
  eventTypes: ['Note', 'Forget'],
  collections: [{ name: 'notes', indexes: [] }, { name: 'people', indexes: [] }],
  changes: (e) => {
    const d = e.data as { who: string; text?: string };
    if (e.type === 'Note') return [{ collection: 'notes', id: e.eventId, replaces: true, evolve: () => ({ who: d.who, text: d.text }) }];
    return [
      { collection: 'notes', where: { who: d.who }, evolve: (doc: Doc) => ({ ...doc, text: '[erased]' }) },
      { collection: 'people', id: d.who, evolve: (doc: Doc | null) => (doc ? { ...doc, name: '[erased]', aliases: (doc['aliases'] as string[]).map(() => '[erased]') } : null) },
      { collection: 'notes', id: e.eventId, replaces: true, evolve: () => ({ who: d.who, text: 'forgotten' }) },
    ];
  },
};
const event = (type: string, data: unknown, position: number): ProjectedEvent => ({
  eventId: `e${position}`, type, data, streamId: 's', revision: position, position, recordedAt: '2026-12-01T00:00:00Z', metadata: {},
});

describe('applyToEveryBuild', () => {
  let dir: string;
  let store: SqliteReadModelStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-every-build-'));
    store = new SqliteReadModelStore(join(dir, 'rm.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the builds of a collection by name, not those of a collection whose name only starts the same', () => {
    expect(buildsOf('notes', ['notes_v1', 'notes_v2_g3', 'notes_x_v1', 'people_v2', 'notes_v2_gx'])).toEqual([
      { name: 'notes_v1', version: 1, generation: 0 },
      { name: 'notes_v2_g3', version: 2, generation: 3 },
    ]);
  });

  it('masks serving, building and retired builds of every version in place, keeping positions, adding nothing', async () => {
    const builds = ['v1', 'v2', 'v2_g1', 'v2_g2'];
    for (const b of builds) {
      await store.ensureCollection(`notes_${b}`, []);
      await store.ensureCollection(`people_${b}`, []);
      await store.applyBatch([
        { collection: `notes_${b}`, id: 'n1', doc: { _id: 'n1', _position: 3, who: 'zoe', text: 'Zoë is moving' }, position: 3 },
        { collection: `notes_${b}`, id: 'n2', doc: { _id: 'n2', _position: 4, who: 'yan', text: 'Yan called' }, position: 4 },
        { collection: `people_${b}`, id: 'zoe', doc: { _id: 'zoe', _position: 2, name: 'Zoë', aliases: ['Zo'] }, position: 2 },
      ], { projection: `notes@${b}`, position: 4 });
    }
    const rewritten = await applyToEveryBuild(store, [notes], event('Forget', { who: 'zoe' }, 9));
    expect(rewritten).toBe(8);
    for (const b of builds) {
      expect(await store.find(`notes_${b}`, {})).toEqual([
        { _id: 'n1', _position: 3, who: 'zoe', text: '[erased]' },
        { _id: 'n2', _position: 4, who: 'yan', text: 'Yan called' },
      ]);
      expect(await store.get(`people_${b}`, 'zoe')).toEqual({ _id: 'zoe', _position: 2, name: '[erased]', aliases: ['[erased]'] });
    }
    expect(await applyToEveryBuild(store, [notes], event('Forget', { who: 'zoe' }, 9))).toBe(0); // idempotent
    expect(await applyToEveryBuild(store, [notes], event('Note', { who: 'zoe', text: 'x' }, 10))).toBe(0);
  });

  it('deletes a document of an older shape that this code cannot mask, rather than leave personal data in it', async () => {
    await store.ensureCollection('people_v1', []);
    await store.applyBatch([{ collection: 'people_v1', id: 'zoe', doc: { _id: 'zoe', _position: 2, name: 'Zoë' }, position: 2 }], { projection: 'notes@v1', position: 2 });
    expect(await applyToEveryBuild(store, [notes], event('Forget', { who: 'zoe' }, 9))).toBe(1);
    expect(await store.get('people_v1', 'zoe')).toBeNull();
  });
});
