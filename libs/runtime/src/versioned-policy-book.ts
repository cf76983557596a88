import type { PublishedPolicy, VersionedPolicy } from '@crm/domain';
import type { EventStore } from '@crm/event-store';

/** A policy as GET /…/policies shows it: the configured one has no publication. */
export type PolicyVersion<P extends VersionedPolicy> = P & {
  readonly source: 'configuration' | 'published';
  readonly publishedAt: string | null;
  readonly publishedBy: string | null;
};

/**
 * The policies of one kind known to this process: the configured one (a file or the default), then every version
 * published to the kind's stream (`<Kind>PolicyPublished`), the newest in force. Generic over the kind so that the
 * SLA and the loyalty policies (issue 16) share it.
 *
 * Every process (API replicas, the projector, the importer) keeps its own copy and `refresh`es it from the log: a
 * read of the stream from the first revision it has not seen, which is one indexed read that returns nothing almost
 * always. The API refreshes before each command that applies the current policy, so a complaint filed on any replica
 * after a PUT answered gets the new version; processes that only need earlier versions poll (`startPolling`).
 */
export class StreamPolicyBook<P extends VersionedPolicy> {
  private readonly published: PublishedPolicy<P>[] = [];
  private readonly byVersionMap = new Map<string, P>();
  /** The next stream revision to read (events of other types count too, or they would be read again each time). */
  private nextRevision = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly events: Pick<EventStore, 'readStream'>,
    readonly streamId: string,
    private readonly eventType: string,
    readonly configured: P,
  ) {
    this.byVersionMap.set(configured.version, configured);
  }

  /** The policy for what is decided from now on. */
  current(): P {
    return this.published.at(-1)?.policy ?? this.configured;
  }

  byVersion(version: string): P | undefined {
    return this.byVersionMap.get(version);
  }

  /** The stream revision this copy has read up to (-1: none). */
  get revision(): number {
    return this.nextRevision - 1;
  }

  /** Newest first: the published versions, then the configured one. */
  versions(): PolicyVersion<P>[] {
    const published = this.published.map((p): PolicyVersion<P> => ({
      ...p.policy, source: 'published', publishedAt: p.publishedAt, publishedBy: p.publishedBy,
    }));
    return [...published.reverse(), { ...this.configured, source: 'configuration', publishedAt: null, publishedBy: null }];
  }

  /** Reads what was published since the last refresh (by any process). Concurrent calls may overlap: each event is applied once. */
  async refresh(): Promise<void> {
    const recorded = await this.events.readStream(this.streamId, { fromRevision: this.nextRevision });
    for (const event of recorded) {
      // Only the next revision is applied: a concurrent refresh may have applied this one already.
      if (event.revision !== this.nextRevision) continue;
      this.nextRevision += 1;
      if (event.type !== this.eventType) continue;
      const data = event.data as PublishedPolicy<P>;
      this.published.push({ policy: data.policy, publishedAt: data.publishedAt, publishedBy: data.publishedBy });
      this.byVersionMap.set(data.policy.version, data.policy);
    }
  }

  /** Refreshes every `intervalMs` until stopPolling (processes that decide nothing with `current`, e.g. the projector). */
  startPolling(intervalMs: number, onError: (error: unknown) => void): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refresh().catch(onError);
    }, intervalMs);
    this.timer.unref();
  }

  stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
