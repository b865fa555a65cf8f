// A server-sent-events client for tests: reads a real text/event-stream response and keeps its events.
export interface StreamEvent {
  id?: string;
  event: string;
  data: string;
}

export class EventStreamClient {
  readonly events: StreamEvent[] = [];
  status = 0;
  private readonly abort = new AbortController();
  private waiters: (() => void)[] = [];
  private done: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
  ) {}

  /** Connects; resolves with the status once the response headers are in. */
  async open(): Promise<number> {
    const res = await fetch(this.url, { headers: this.headers, signal: this.abort.signal });
    this.status = res.status;
    if (!res.ok || !res.body) return res.status;
    this.done = this.read(res.body).catch(() => undefined);
    return res.status;
  }

  /** The events named `event` so far, data parsed as JSON. */
  of<T = any>(event: string): (T & { _id?: string })[] {
    return this.events
      .filter((e) => e.event === event)
      .map((e) => ({ ...(JSON.parse(e.data) as T), _id: e.id }));
  }

  get lastId(): string | undefined {
    return [...this.events].reverse().find((e) => e.id !== undefined)?.id;
  }

  /** Waits until `ok` holds of the events received (checked on every new event). */
  async until(ok: (events: StreamEvent[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok(this.events)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stream condition not met; events: ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const e: StreamEvent = { event: 'message', data: '' };
        let hasData = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const [field, ...rest] = line.split(':');
          const value = rest.join(':').replace(/^ /, '');
          if (field === 'id') e.id = value;
          else if (field === 'event') e.event = value;
          else if (field === 'data') {
            e.data += (hasData ? '\n' : '') + value;
            hasData = true;
          }
        }
        if (hasData) this.events.push(e);
      }
      const waiting = this.waiters;
      this.waiters = [];
      for (const w of waiting) w();
    }
  }
}
