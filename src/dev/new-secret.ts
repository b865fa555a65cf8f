// `npm run token:new -- [name] [role] [home]` (role: device, owner, staff, customer, operator or
// codec-viewer): a fresh bearer token and the config entry that stores only
// its sha256. `npm run codec-key:new -- [id]`: a fresh AES-256 payload key. Both print to stdout only.
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../config/config';

export const newToken = () => randomBytes(24).toString('base64url');
export const newCodecKey = () => randomBytes(32).toString('base64');

/** Where a token of `role` is configured. */
function whereTokensLive(role: string, home: string): string {
  if (role === 'staff' || role === 'customer') return 'tokens';
  if (role === 'operator') return 'operators';
  if (role === 'codec-viewer') return 'codec.endpoint.tokens';
  return `homes.${home}.tokens`;
}

function main(argv: string[]): void {
  const [kind, ...rest] = argv;
  if (kind === 'token') {
    const [name = 'new-token', role = 'owner', home = '<homeId>'] = rest;
    const token = newToken();
    const entry = { name, role, sha256: sha256Hex(token) };
    process.stdout.write(
      [
        `token   ${token}`,
        `sha256  ${entry.sha256}`,
        '',
        `Give the token to its holder (shown once). In the config, under ${whereTokensLive(role, home)}, keep only:`,
        `  ${JSON.stringify(entry)}`,
        '',
      ].join('\n'),
    );
  } else if (kind === 'codec-key') {
    const [id = `key-${new Date().toISOString().slice(0, 10)}`] = rest;
    const key = newCodecKey();
    process.stdout.write(
      [
        `SESSIONFLOW_CODEC_KEYS=${id}:${key}`,
        '',
        'Give the same keys to every worker and API. To rotate: put the new key first (it encrypts),',
        'keep the old ones after it (they still decrypt), or set SESSIONFLOW_CODEC_ACTIVE_KEY.',
        `Config file form: "codec": { "keys": [${JSON.stringify({ id, key })}] }`,
        '',
      ].join('\n'),
    );
  } else {
    process.stderr.write('usage: new-secret token [name] [role] [home] | new-secret codec-key [id]\n');
    process.exit(2);
  }
}

if (require.main === module) main(process.argv.slice(2));
