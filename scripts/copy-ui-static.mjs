// The /ui page's static files are not TypeScript: the build copies them next to the compiled routes.
import { cpSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const to = resolve(root, 'dist/ui/static');
rmSync(to, { recursive: true, force: true });
cpSync(resolve(root, 'src/ui/static'), to, { recursive: true });
