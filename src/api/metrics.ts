// The API's Prometheus metrics (`GET /metrics`): HTTP traffic by route pattern and status, refusals by
// code, answers of 503, and the sessions it drives (events, requests, starts) by kind. One registry per
// app, so tests and two apps in one process never share counts. Session lifecycles (opened, each
// transition, ended by outcome) and notifications are counted where they happen: the worker's metrics.
import client from 'prom-client';

export class ApiMetrics {
  readonly registry = new client.Registry();

  readonly httpRequests = new client.Counter({
    name: 'sessionflow_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new client.Histogram({
    name: 'sessionflow_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly refusals = new client.Counter({
    name: 'sessionflow_http_refusals_total',
    help: 'Error answers by their error code and status (4xx refusals, 5xx failures)',
    labelNames: ['code', 'status'] as const,
    registers: [this.registry],
  });

  readonly unavailable = new client.Counter({
    name: 'sessionflow_http_unavailable_total',
    help: 'Answers of 503 (Temporal unreachable or over its deadline, a provider unavailable), by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly sessionEvents = new client.Counter({
    name: 'sessionflow_session_events_total',
    help: 'Events accepted into sessions through the API, by kind and event (opening events open or join)',
    labelNames: ['kind', 'event'] as const,
    registers: [this.registry],
  });

  readonly sessionRequests = new client.Counter({
    name: 'sessionflow_session_requests_total',
    help: 'Requests made to sessions, by kind, request and result (answered, or the refusal code)',
    labelNames: ['kind', 'request', 'result'] as const,
    registers: [this.registry],
  });

  readonly sessionStarts = new client.Counter({
    name: 'sessionflow_session_starts_total',
    help: 'Sessions the API started directly (kinds opened by a route, not an event), by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  /** Set by the read model once it exists: seconds it is behind the newest session change. */
  private lagSource?: () => number;

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
