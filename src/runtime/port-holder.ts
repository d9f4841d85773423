import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { DvmError } from '../errors/dvm-error.ts';

/** Who holds a port: pid and command line when /proc tells, both absent when unknown. */
export interface PortHolder {
  pid?: number;
  command?: string;
}

const LISTEN = '0A';
const MAX_COMMAND = 200;

/** Undefined when the TCP port can be listened on at host, else its holder as far as /proc tells. */
export async function portHolder(port: number, host = '127.0.0.1'): Promise<PortHolder | undefined> {
  const bind = await tryListen(port, host);
  if (bind === 'free') return undefined;
  const holder = await findHolder(port).catch(() => undefined);
  // A bind that failed for another reason than EADDRINUSE (EACCES, EADDRNOTAVAIL) only counts with a listener.
  if (bind === 'other') return holder?.found ? holder.holder : undefined;
  return holder?.holder ?? {};
}

/** Throws DVM_PORT_IN_USE, naming the holding pid and command when known, when the port is not free. */
export async function assertPortFree(port: number, owner: string, host = '127.0.0.1'): Promise<void> {
  const holder = await portHolder(port, host);
  if (!holder) return;
  const who =
    holder.pid === undefined ? '' : ` by pid ${holder.pid}${holder.command ? ` (${holder.command})` : ''}`;
  throw new DvmError('DVM_PORT_IN_USE', `port ${port} needed by ${owner} is in use${who}`, {
    fix: `Stop that process, or give the instance another port: ports: [{containerPort: ${port}, hostPort: N}]`,
    path: 'ports',
    details: { port, host, ...holder },
  });
}

function tryListen(port: number, host: string): Promise<'free' | 'in-use' | 'other'> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'EADDRINUSE' ? 'in-use' : 'other'),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

// Socket inodes of TCP listeners on the port, from /proc/net/tcp and tcp6; undefined without /proc.
async function listenerInodes(port: number): Promise<Set<string> | undefined> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  let readable = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    readable = true;
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== LISTEN) continue;
      if (fields[1].split(':')[1] === hexPort && fields[9] !== '0') inodes.add(fields[9]);
    }
  }
  return readable ? inodes : undefined;
}

async function findHolder(port: number): Promise<{ found: boolean; holder: PortHolder } | undefined> {
  const inodes = await listenerInodes(port);
  if (!inodes) return undefined;
  if (inodes.size === 0) return { found: false, holder: {} };
  const targets = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  // Our own process first: cheap, and the common case in tests.
  pids.sort((a, b) => Number(b === String(process.pid)) - Number(a === String(process.pid)));
  for (const pid of pids) {
    if (await holdsSocket(pid, targets)) {
      return { found: true, holder: { pid: Number(pid), command: await commandLine(pid) } };
    }
  }
  return { found: true, holder: {} };
}

async function holdsSocket(pid: string, targets: Set<string>): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false; // gone, or another user's process
  }
  for (const fd of fds) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (targets.has(link)) return true;
  }
  return false;
}

async function commandLine(pid: string): Promise<string | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    const command = raw.split('\0').filter(Boolean).join(' ');
    return command ? command.slice(0, MAX_COMMAND) : undefined;
  } catch {
    return undefined;
  }
}

/** A TCP port that is free on 127.0.0.1 right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
