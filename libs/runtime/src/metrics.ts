/**
 * A small Prometheus text-format registry (counters, gauges computed at scrape, histograms). Enough for the few
 * series this service exposes, without a dependency.
 */
type Labels = Readonly<Record<string, string>>;

const key = (labels: Labels): string =>
  Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',');

class Counter {
  readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines;
  }
}

class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {}
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += value;
    s.count += 1;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i] ?? 0}`));
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return lines;
  }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class Metrics {
  readonly commandDuration = new Histogram('crm_command_duration_seconds', 'Command latency from request to response', LATENCY_BUCKETS);
  readonly queryDuration = new Histogram('crm_query_duration_seconds', 'Query (GET) latency from request to response', LATENCY_BUCKETS);
  readonly eventsAppended = new Counter('crm_events_appended_total', 'Events appended by commands of this process');
  readonly projectionEvents = new Counter('crm_projection_events_applied_total', 'Events applied by projections of this process');
  readonly slaBreaches = new Counter('crm_sla_breaches_recorded_total', 'SlaBreached events appended by the SLA watcher of this process');
  readonly subscriptionRestarts = new Counter('crm_subscription_restarts_total', 'Live subscriptions to the event log re-opened by projectors of this process after the store dropped them, by reason');

  render(gauges: ReadonlyArray<{ name: string; help: string; values: ReadonlyArray<{ labels: Labels; value: number }> }>): string {
    const lines = [
      ...this.commandDuration.render(),
      ...this.queryDuration.render(),
      ...this.eventsAppended.render(),
      ...this.projectionEvents.render(),
      ...this.slaBreaches.render(),
      ...this.subscriptionRestarts.render(),
    ];
    for (const g of gauges) {
      lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
      for (const v of g.values) lines.push(`${g.name}${Object.keys(v.labels).length ? `{${key(v.labels)}}` : ''} ${v.value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** The counters a projector increments: the process's Metrics, or a sink that forwards them from a worker thread. */
export interface ProjectorMetrics {
  readonly projectionEvents: { inc(labels: Labels, by?: number): void };
  readonly slaBreaches: { inc(labels: Labels, by?: number): void };
  readonly subscriptionRestarts: { inc(labels: Labels, by?: number): void };
}
