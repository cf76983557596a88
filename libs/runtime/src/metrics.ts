import { SLA_KINDS } from '@crm/domain';
import { collectDefaultMetrics, Counter as PromCounter, Gauge, Histogram as PromHistogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics, on prom-client: one Registry per Metrics (never prom-client's global one, so two
 * apps in one test process, or the API and its projector thread, never share or double-register a series). The
 * names, types, labels and buckets are the ones the hand-written registry exposed before: dashboards keep working.
 */
type Labels = Readonly<Record<string, string>>;

/** A counter with the call shape the projector and the command path already use (`inc(labels, by)`). */
class Counter {
  private readonly counter: PromCounter;
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[] = []) {
    this.counter = new PromCounter({ name, help, labelNames, registers: [registry] });
  }
  inc(labels: Labels = {}, by = 1): void {
    this.counter.inc(labels, by);
  }
  /** The sum over every label set (benches read it). */
  async total(): Promise<number> {
    return (await this.counter.get()).values.reduce((sum, v) => sum + v.value, 0);
  }
}

class Histogram {
  private readonly histogram: PromHistogram;
  constructor(registry: Registry, name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    this.histogram = new PromHistogram({ name, help, labelNames, buckets: [...buckets], registers: [registry] });
  }
  observe(labels: Labels, value: number): void {
    this.histogram.observe(labels, value);
  }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const REQUEST_LABELS = ['method', 'route', 'status'] as const;

/** A gauge whose values are computed at scrape time by the caller (projection lag needs the store). */
export interface ScrapedGauge {
  readonly name: string;
  readonly help: string;
  readonly values: ReadonlyArray<{ labels: Labels; value: number }>;
}

export interface MetricsOptions {
  /**
   * prom-client's default process and runtime metrics (CPU, resident memory, heap, GC, event-loop lag, handles). Once
   * per process: the API process turns it on; tests and the projector thread (whose counters are forwarded to the
   * API's Metrics) leave it off, since each collector keeps a GC observer and an event-loop histogram alive.
   */
  readonly defaultMetrics?: boolean;
  /** Names of the projections whose applied-events counters start at 0 (the API passes them all). */
  readonly projections?: readonly string[];
}

export class Metrics {
  readonly registry = new Registry();
  readonly commandDuration = new Histogram(this.registry, 'crm_command_duration_seconds', 'Command latency from request to response', REQUEST_LABELS, LATENCY_BUCKETS);
  readonly queryDuration = new Histogram(this.registry, 'crm_query_duration_seconds', 'Query (GET) latency from request to response', REQUEST_LABELS, LATENCY_BUCKETS);
  readonly eventsAppended = new Counter(this.registry, 'crm_events_appended_total', 'Events appended by commands of this process');
  readonly projectionEvents = new Counter(this.registry, 'crm_projection_events_applied_total', 'Events applied by projections of this process', ['projection']);
  readonly slaBreaches = new Counter(this.registry, 'crm_sla_breaches_recorded_total', 'SlaBreached events appended by the SLA watcher of this process', ['kind']);
  readonly slaEscalations = new Counter(this.registry, 'crm_sla_escalations_recorded_total', 'ComplaintEscalated events appended by the SLA watcher of this process, by escalation step and complaint priority', ['step', 'priority']);
  readonly subscriptionRestarts = new Counter(this.registry, 'crm_subscription_restarts_total', 'Live subscriptions to the event log re-opened by projectors of this process after the store dropped them, by reason', ['reason']);
  readonly readModelWriteLockWait = new Counter(this.registry, 'crm_read_model_write_lock_wait_seconds_total', 'Time the projectors of this process waited for the read-model store\'s write lock (embedded SQLite: one writer at a time, shared by the projector threads)');
  private readonly gauges = new Map<string, Gauge>();

  constructor(options: MetricsOptions = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    // Series that exist from the start read 0 rather than absent, so rate() and alerts see the first increment.
    for (const kind of SLA_KINDS) this.slaBreaches.inc({ kind }, 0);
    for (const projection of options.projections ?? []) this.projectionEvents.inc({ projection }, 0);
  }

  /** The Prometheus text exposition: every series above, the default ones when on, and `gauges` as of now. */
  async render(gauges: readonly ScrapedGauge[] = []): Promise<string> {
    for (const g of gauges) {
      let gauge = this.gauges.get(g.name);
      if (!gauge) {
        const labelNames = [...new Set(g.values.flatMap((v) => Object.keys(v.labels)))];
        gauge = new Gauge({ name: g.name, help: g.help, labelNames, registers: [this.registry] });
        this.gauges.set(g.name, gauge);
      }
      // Values of this scrape only: a projection that disappeared must not keep its last lag.
      gauge.reset();
      for (const v of g.values) gauge.set(v.labels, v.value);
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The counters a projector increments: the process's Metrics, or a sink that forwards them from a worker thread. */
export interface ProjectorMetrics {
  readonly projectionEvents: { inc(labels: Labels, by?: number): void };
  readonly slaBreaches: { inc(labels: Labels, by?: number): void };
  readonly slaEscalations: { inc(labels: Labels, by?: number): void };
  readonly subscriptionRestarts: { inc(labels: Labels, by?: number): void };
  readonly readModelWriteLockWait: { inc(labels: Labels, by?: number): void };
}
