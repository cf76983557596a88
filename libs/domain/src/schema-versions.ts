/**
 * The schema version every event type is written with today, and the upcasters that bring older stored versions
 * up to it. An upcaster is plain data-to-data code: no I/O, no clock.
 */
export const CURRENT_SCHEMA_VERSIONS: Readonly<Record<string, number>> = { ContactLogged: 2 };

export function schemaVersionOf(type: string): number {
  return CURRENT_SCHEMA_VERSIONS[type] ?? 1;
}

/**
 * ContactLogged v1 → v2: the first release recorded channels under their old names ("e-mail", "social-network",
 * "web", "in-person", "telephone"); v2 uses the catalogue's names. Old events keep their stored bytes; readers see v2.
 */
const LEGACY_CHANNELS: Readonly<Record<string, string>> = {
  'e-mail': 'email',
  'social-network': 'social',
  web: 'self-service',
  'in-person': 'visit',
  telephone: 'phone',
};

export const EVENT_UPCASTERS = [
  {
    type: 'ContactLogged',
    fromVersion: 1,
    upcast(data: unknown): unknown {
      const d = data as { channel?: unknown };
      const channel = typeof d.channel === 'string' ? (LEGACY_CHANNELS[d.channel] ?? d.channel) : d.channel;
      return { ...(data as Record<string, unknown>), channel };
    },
  },
] as const;
