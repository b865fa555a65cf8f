// The API's Prometheus metrics (`GET /metrics`): HTTP traffic by route pattern and status, refusals by
// code, answers of 503, and the sessions it drives (events, requests, starts) by kind. One registry per
// app, so tests and two apps in one process never share counts. Session lifecycles (opened, each
// transition, ended by outcome) and notifications are counted where they happen: the worker's metrics.
import client from 'prom-client';

/** The API's counters: name, help and labels, one line of the table each. */
const counterSpecs = {
  httpRequests: {
    name: 'sessionflow_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labels: ['method', 'route', 'status'],
  },
  refusals: {
    name: 'sessionflow_http_refusals_total',
    help: 'Error answers by their error code and status (4xx refusals, 5xx failures)',
    labels: ['code', 'status'],
  },
  unavailable: {
    name: 'sessionflow_http_unavailable_total',
    help: 'Answers of 503 (Temporal unreachable or over its deadline, a session not ready, a provider unavailable), by route',
    labels: ['route'],
  },
  sessionEvents: {
    name: 'sessionflow_session_events_total',
    help: 'Events accepted into sessions through the API, by kind and event (opening events open or join)',
    labels: ['kind', 'event'],
  },
  eagerOpenings: {
    name: 'sessionflow_eager_openings_total',
    help: 'Sessions an event opened with an eager start (the worker in the API process ran the first task at once), by kind',
    labels: ['kind'],
  },
  sessionRequests: {
    name: 'sessionflow_session_requests_total',
    help: 'Requests made to sessions, by kind, request and result (answered, or the refusal code)',
    labels: ['kind', 'request', 'result'],
  },
  sessionStarts: {
    name: 'sessionflow_session_starts_total',
    help: 'Sessions the API started directly (kinds opened by a route, not an event), by kind',
    labels: ['kind'],
  },
  statusReads: {
    name: 'sessionflow_status_reads_total',
    help: 'Status reads by kind and where they were answered from: the read model, or Temporal (consistent reads, and sessions the read model does not know)',
    labels: ['kind', 'source'],
  },
} as const;
type Counters = {
  [K in keyof typeof counterSpecs]: client.Counter<(typeof counterSpecs)[K]['labels'][number]>;
};

export class ApiMetrics {
  readonly registry = new client.Registry();

  readonly counters = Object.fromEntries(
    Object.entries(counterSpecs).map(([key, { name, help, labels }]) => [
      key,
      new client.Counter({ name, help, labelNames: labels, registers: [this.registry] }),
    ]),
  ) as Counters;

  readonly httpDuration = new client.Histogram({
    name: 'sessionflow_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** Set by the read model once it exists: seconds it is behind the newest session change. */
  private lagSource?: () => number;
  private waitingSource?: () => number;

  constructor() {
    client.collectDefaultMetrics({ register: this.registry });
    const lag = () => this.lagSource?.() ?? Number.NaN;
    new client.Gauge({
      name: 'sessionflow_read_model_lag_seconds',
      help: 'How far the read model is behind the sessions it mirrors (NaN while no read model reports)',
      registers: [this.registry],
      collect() {
        this.set(lag());
      },
    });
    const waiting = () => this.waitingSource?.() ?? 0;
    new client.Gauge({
      name: 'sessionflow_openings_waiting',
      help: 'Sessions this API opened that wait for their first workflow task (openings are shed past api.writes.openingBacklog)',
      registers: [this.registry],
      collect() {
        this.set(waiting());
      },
    });
  }

  /** The hook the API's opening backlog reports its size through. */
  openingsWaiting(count: () => number): void {
    this.waitingSource = count;
  }

  /** The hook a read model reports its lag through. */
  readModelLag(seconds: () => number): void {
    this.lagSource = seconds;
  }

  /** What Prometheus scrapes. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
