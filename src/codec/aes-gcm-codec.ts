// Temporal payload codec: every payload (inputs, results, signals, updates, queries) is AES-256-GCM
// encrypted before it leaves the process, so history holds ciphertext only. The key id travels in the
// payload's metadata: old keys keep decrypting after a rotation, the active one encrypts.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { ValueError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Config } from '../config/config';
import { refusedPayloadJson } from '../shared/refused-payload';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = (s: string) => new TextEncoder().encode(s);

/** The codec part of the config; `strict` defaults to on, as in the config schema. */
type CodecSettings = Omit<Config['codec'], 'strict'> & { strict?: boolean };

export class AesGcmCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;

  /**
   * `strict`: refuse payloads that are not ours (unencrypted), so a plaintext signal or update forged with
   * a plain client by anyone who can reach the Temporal frontend cannot act. Off only to read sessions
   * written before encryption was switched on.
   */
  constructor(
    keys: { id: string; key: Buffer }[],
    private readonly activeKeyId = keys[0]?.id,
    private readonly strict = true,
  ) {
    if (keys.length === 0 || activeKeyId === undefined) throw new Error('AesGcmCodec needs at least one key');
    for (const k of keys)
      if (k.key.length !== 32) throw new Error(`codec key '${k.id}' must be 32 bytes (AES-256)`);
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    if (!this.keys.has(activeKeyId))
      throw new Error(`codec active key '${activeKeyId}' is not among the keys`);
  }

  static fromConfig(config: { codec: CodecSettings }): AesGcmCodec {
    const { keys, activeKeyId, strict } = config.codec;
    return new AesGcmCodec(
      keys.map((k) => ({ id: k.id, key: Buffer.from(k.key, 'base64') })),
      activeKeyId ?? keys[0]?.id,
      strict ?? true,
    );
  }

  get isStrict(): boolean {
    return this.strict;
  }

  // A bad payload must reject the promise, never throw synchronously at the caller: hence new Promise.
  encode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((p) => this.encodeOne(p))));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((p) => this.decodeOne(p))));
  }

  private encodeOne(payload: Payload): Payload {
    const key = this.keys.get(this.activeKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    // The key id is authenticated too: a payload cannot be relabelled to another key.
    cipher.setAAD(Buffer.from(this.activeKeyId));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(this.activeKeyId) },
      data,
    };
  }

  private decodeOne(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) {
      // Not strict: payloads written before encryption was switched on (older sessions) stay readable.
      if (!this.strict) return payload;
      // A marker no session input can be: the workflows' interceptor drops a signal carrying it and refuses
      // an update, query or start (a payload that failed to convert would stall the session instead).
      return { metadata: { encoding: utf8('json/plain') }, data: utf8(refusedPayloadJson) };
    }
    const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
    const keyId = keyIdBytes ? Buffer.from(keyIdBytes).toString() : '';
    const key = this.keys.get(keyId);
    if (!key) throw new ValueError(`payload encrypted with unknown codec key '${keyId}'`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('encrypted payload is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** The data converter of every client and worker of ours; undefined when no key is configured (unit tests). */
export function dataConverterFor(config: {
  codec: CodecSettings;
}): { payloadCodecs: PayloadCodec[] } | undefined {
  return config.codec.keys.length > 0 ? { payloadCodecs: [AesGcmCodec.fromConfig(config)] } : undefined;
}
