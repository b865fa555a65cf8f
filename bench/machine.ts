// Facts about the machine and the processes under test, read from the OS (Linux /proc where needed).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem, type as osType } from 'node:os';
import { dirname, join } from 'node:path';

const MiB = 1024 * 1024;

export interface MachineFacts {
  cpuCount: number;
  cpuModel: string;
  memoryMiB: number;
  freeMemoryMiB: number;
  os: string;
  node: string;
  temporalSdk: string;
  temporalCli: string | null;
  temporalServer: string | null;
  loadAverage1m: number;
}

function packageVersion(pkg: string): string {
  const main = require.resolve(pkg);
  const json = JSON.parse(readFileSync(join(dirname(main), '../package.json'), 'utf8')) as {
    version: string;
  };
  return json.version;
}

export function machineFacts(opts: { temporalBinary?: string; serverVersion?: string }): MachineFacts {
  let cli: string | null = null;
  if (opts.temporalBinary) {
    try {
      cli = execFileSync(opts.temporalBinary, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      cli = null;
    }
  }
  return {
    cpuCount: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / MiB),
    freeMemoryMiB: Math.round(freemem() / MiB),
    os: `${osType()} ${release()}`,
    node: process.version,
    temporalSdk: packageVersion('@temporalio/worker'),
    temporalCli: cli,
    temporalServer: opts.serverVersion ?? null,
    loadAverage1m: loadavg()[0],
  };
}

export interface ProcessMemory {
  pid: number;
  /** Resident set now, and its peak (VmHWM), in MiB. */
  rssMiB: number;
  peakRssMiB: number;
}

/** VmRSS / VmHWM of a process from /proc/<pid>/status; undefined when it cannot be read. */
export function processMemory(pid: number | undefined): ProcessMemory | undefined {
  if (!pid) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { pid, rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** The process listening on a local TCP port (for --attach: the server's memory), if we may see it. */
export function findListeningPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A = LISTEN; column 9 is the socket inode.
      if (cols.length > 9 && cols[3] === '0A' && parseInt(cols[1].split(':')[1], 16) === port)
        inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(entry);
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return undefined;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC;
  } catch {
    return undefined;
  }
}

/** USER_HZ is 100 on every Linux Node supports. */
const CLOCK_TICKS_PER_SEC = 100;

export type CpuUse = Record<'worker' | 'api' | 'server', number | undefined> & { wallSeconds: number };

/** Starts a CPU meter over the three processes; the returned function reads the use since then. */
export function cpuMeter(pids: { worker?: number; api?: number; server?: number }): () => CpuUse {
  const read = () => ({
    worker: processCpuSeconds(pids.worker),
    api: processCpuSeconds(pids.api),
    server: processCpuSeconds(pids.server),
    at: Date.now(),
  });
  const before = read();
  return () => {
    const after = read();
    const diff = (k: 'worker' | 'api' | 'server') =>
      after[k] === undefined || before[k] === undefined ? undefined : after[k] - before[k];
    return {
      worker: diff('worker'),
      api: diff('api'),
      server: diff('server'),
      wallSeconds: (after.at - before.at) / 1000,
    };
  };
}
