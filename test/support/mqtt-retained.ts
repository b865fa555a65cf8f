// What a new subscriber finds retained on a broker: the state topics and discovery messages as Home
// Assistant (or anyone) reading them later would get them.
import { connectAsync } from 'mqtt';

export async function retainedOn(url: string, filters: string[]): Promise<Map<string, string>> {
  const client = await connectAsync(url, { clean: true });
  const found = new Map<string, string>();
  client.on('message', (topic, payload, packet) => {
    if (packet.retain) found.set(topic, payload.toString());
  });
  await client.subscribeAsync(filters, { qos: 1 });
  // Retained messages follow the SUBACK; one round trip more and they are all in.
  await client.publishAsync('sessionflow-test/flush', 'x', { qos: 1 });
  await new Promise((r) => setTimeout(r, 200));
  await client.endAsync();
  return found;
}
