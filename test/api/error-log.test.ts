// What the API's logs may print of a failed request: never the codec viewer token the Web UI carries in
// its endpoint path. A real HTTP request through the real error handler, its log lines captured.
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { errorHandler } from '../../src/api/errors';
import { listen, stopWebServer } from '../../src/api/server';

test('When a request on the Web UI codec path fails with a 500, then the error log names the route but not the token', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const app = express();
  app.post('/codec/ui/:token/decode', () => {
    throw new Error('a bug behind the codec route');
  });
  app.use(errorHandler(logger));
  const server = await listen(app, 0);
  const token = 'web-ui-viewer-token-0123456789abcdef';
  try {
    const res = await fetch(`${server.url}/codec/ui/${token}/decode`, { method: 'POST' });
    expect(res.status).toBe(500);
  } finally {
    await stopWebServer(server);
  }
  const failed = lines
    .map((l) => JSON.parse(l) as { msg: string; path: string })
    .find((l) => l.msg === 'request failed');
  expect(failed?.path).toBe('/codec/ui/[redacted]/decode');
  expect(lines.join('\n')).not.toContain(token);
});
