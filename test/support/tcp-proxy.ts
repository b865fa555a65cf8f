// A loopback TCP relay that can be frozen: from then on no byte moves in either direction,
// so a crash test can stop a worker's completion from reaching Temporal at an exact moment.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class FreezableProxy {
  address = '';
  private server?: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private frozen = false;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      // Not pipe(): its backpressure handling resumes a paused source. Frozen bytes are held back.
      const relay = (from: Socket, to: Socket) =>
        from.on('data', (chunk: Buffer) => {
          if (!this.frozen) to.write(chunk);
        });
      relay(client, upstream);
      relay(upstream, client);
      const close = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.address = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** From now on nothing is relayed either way (what arrives is dropped, as a cut cable would). */
  freeze(): void {
    this.frozen = true;
  }

  /**
   * Relays again, for connections made from now on: the ones open during the freeze lost bytes and are
   * cut (their process is gone by then anyway).
   */
  thaw(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    this.frozen = false;
  }

  async stop(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
