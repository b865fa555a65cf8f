// Reads what a workflow history holds: the raw bytes as the server stores them, or decoded with our codec.
import type { Payload, PayloadCodec } from '@temporalio/common';

/**
 * Every payload object (metadata + data) in a history, except search attributes (the server must read
 * those to index them, so no codec touches them; ours hold kind, key, home id and state only), the
 * SDK's own patch markers (core writes them in clear; they hold the patch's name only) and the bookkeeping
 * of a local activity's marker (core writes its `data` in clear: sequence, attempt, activity type and
 * times; the activity's result and failure beside it went through the codec and are read as usual).
 */
export function payloadsIn(node: unknown, out: Payload[] = []): Payload[] {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return out;
  const o = node as Record<string, unknown>;
  if (o.metadata && typeof o.metadata === 'object' && o.data instanceof Uint8Array) out.push(o);
  else if (o.markerName === 'core_patch') return out;
  else if (o.markerName === 'core_local_activity') {
    for (const [k, v] of Object.entries(o))
      if (k !== 'details') payloadsIn(v, out);
      else for (const [d, p] of Object.entries(v ?? {})) if (d !== 'data') payloadsIn(p, out);
  } else for (const [k, v] of Object.entries(o)) if (k !== 'searchAttributes') payloadsIn(v, out);
  return out;
}

/** All bytes anywhere in a history, as text: what someone reading the raw history would see. */
export function rawText(node: unknown): string {
  if (node instanceof Uint8Array) return Buffer.from(node).toString('utf8');
  if (node && typeof node === 'object') return Object.values(node).map(rawText).join('\n');
  if (typeof node === 'string') return node;
  return '';
}

/** The history's payloads decoded with `codec`, as text. */
export async function decodedText(history: unknown, codec: PayloadCodec): Promise<string> {
  const decoded = await codec.decode(payloadsIn(history));
  return decoded.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8')).join('\n');
}
