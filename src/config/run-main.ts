// Shared tail of every entrypoint: problems the user must fix (configuration, a taken port) are one
// clear line; anything else is a bug and keeps its stack.
import { ConfigError } from './config';

export class UserFacingError extends Error {}

export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof ConfigError || err instanceof UserFacingError)
      console.error(`${name}: ${err.message}`);
    else console.error(err);
    process.exit(1);
  });
}
