import { BlockList, isIP } from 'node:net';
import { DvmError } from '../../errors/dvm-error.ts';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for a name or address only this machine reaches: localhost, 127.0.0.0/8, ::1 (IPv4-mapped too; brackets or not). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  const family = isIP(bare);
  return family !== 0 && LOOPBACK.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}

// host, or host:port, an IPv6 address in brackets: nothing else a Host header holds (no userinfo, path or spaces).
const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[^\s/\\?#@[\]:]+)(:\d{0,5})?$/;

/**
 * The host a Host header (`host[:port]`) names, as a browser's URL holds it: lower case, punycode, an IPv4 address
 * in dotted decimal, an IPv6 one in brackets, without a trailing dot; undefined when the header is no host.
 */
export function hostNameOf(header: string): string | undefined {
  if (!HOST_HEADER.test(header)) return undefined;
  try {
    const name = new URL(`http://${header}`).hostname;
    return name.endsWith('.') ? name.slice(0, -1) : name;
  } catch {
    return undefined;
  }
}

// An address as a server or socket gives it (`::1`, `127.0.0.1`) in the form hostNameOf gives; an IPv4 client of a
// dual-stack socket (`::ffff:192.0.2.2`) as the IPv4 address it reached.
function addressName(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)?.[1];
  if (mapped) return hostNameOf(mapped);
  return hostNameOf(isIP(address) === 6 ? `[${address}]` : address);
}

/** The addresses a server answers on: where it listens, and where the request's connection arrived. */
export interface ServerAddresses {
  /** The address it listens on (`server.address()`); undefined before it listens. */
  listen?: string;
  /** The local address of the request's connection (`socket.localAddress`). */
  local?: string;
}

/**
 * Decides a request's Host header against DNS rebinding (as Vite's `server.allowedHosts` and Jupyter do): a request
 * that arrived at a loopback address (on a server listening there, or on 0.0.0.0) is answered only for localhost, a
 * loopback address, the server's own address and the names of `agent.allowed_hosts`; one that arrived elsewhere is
 * restricted only by `agent.allowed_hosts`, when set (its names, plus those). Returns the DVM_HOST_NOT_ALLOWED refusal, or undefined when the request may go on (a request
 * without Host too: no browser sends one).
 */
export function hostRefusal(
  header: string | undefined,
  server: ServerAddresses,
  allowed: readonly string[] | undefined,
): DvmError | undefined {
  if (header === undefined) return undefined;
  // Clients send the same Host on every request: the last one answered is not parsed again.
  const last = lastAnswered;
  if (
    last.header === header &&
    last.listen === server.listen &&
    last.local === server.local &&
    last.allowed === allowed
  )
    return undefined;
  const refusal = decide(header, server, allowed);
  if (!refusal) lastAnswered = { header, listen: server.listen, local: server.local, allowed };
  return refusal;
}

// The last Host header answered, with the addresses and allowed_hosts (the list read from config.yaml) it was
// decided against.
let lastAnswered: ServerAddresses & { header?: string; allowed?: readonly string[] } = {};

function decide(
  header: string,
  server: ServerAddresses,
  allowed: readonly string[] | undefined,
): DvmError | undefined {
  // A request that arrived at a loopback address (a server on 0.0.0.0 too): DNS rebinding reaches it that way.
  const arrival = server.local ?? server.listen;
  const loopback = arrival !== undefined && isLoopback(arrival);
  if (!loopback && allowed === undefined) return undefined;
  const name = hostNameOf(header);
  if (
    name !== undefined &&
    (isLoopback(name) ||
      name === addressName(server.listen) ||
      name === addressName(server.local) ||
      allowed?.some((entry) => (entry.startsWith('.') ? `.${name}`.endsWith(entry) : name === entry)))
  )
    return undefined;
  const shown = JSON.stringify(header.slice(0, 100));
  return new DvmError(
    'DVM_HOST_NOT_ALLOWED',
    `Host ${shown} is not a name of this agent${loopback ? ' (it arrived at a loopback address: a foreign name there is how DNS rebinding reaches it)' : ''}`,
    {
      fix: name
        ? `Send it to localhost or the address dvm serve listens on; if ${name} is a name of this agent (a DNS name, a proxy in front), add it to agent.allowed_hosts in config.yaml, e.g. agent: {allowed_hosts: [${JSON.stringify(name)}]}.`
        : 'Send a Host header of the form host[:port], naming this agent (an HTTP client does so from the URL); other names go in agent.allowed_hosts in config.yaml.',
      details: { host: header.slice(0, 100) },
    },
  );
}

/**
 * config.yaml `agent.allowed_hosts` (its value, read by agentSettings): a list of host names (or IP addresses) the
 * API answers besides its own; `.example.com` allows example.com and every name under it. Names are kept as
 * hostNameOf gives them. DVM_SCHEMA_INVALID (file, path) for anything else: a port, a scheme, a path, a wildcard.
 */
export function allowedHostsSetting(value: unknown, file: string): string[] {
  const invalid = (path: string, message: string) =>
    new DvmError('DVM_SCHEMA_INVALID', `${path} ${message}`, {
      file,
      path,
      fix: 'List the host names (or IP addresses) clients reach this agent by, without scheme or port, e.g.\nagent:\n  allowed_hosts: [dvm.example.com, .internal.example.com]',
    });
  if (!Array.isArray(value)) throw invalid('agent.allowed_hosts', 'must be a list of host names');
  return value.map((entry, i) => {
    const path = `agent.allowed_hosts[${i}]`;
    if (typeof entry !== 'string') throw invalid(path, `must be a host name, not ${JSON.stringify(entry)}`);
    const text = entry.trim();
    const subdomains = text.startsWith('.');
    const host = subdomains ? text.slice(1) : text;
    // An IPv6 address, bare or in brackets as a Host header has it; a colon anywhere else is a port.
    const name =
      isIP(host) === 6
        ? hostNameOf(`[${host}]`)
        : /^\[.*\]$/.test(host) || !host.includes(':')
          ? hostNameOf(host)
          : undefined;
    if (!name || name.includes('*') || (subdomains && name.startsWith('[')))
      throw invalid(
        path,
        `${JSON.stringify(entry.slice(0, 100))} is not a host name (no scheme, port, path or wildcard; .example.com allows every name under example.com)`,
      );
    return subdomains ? `.${name}` : name;
  });
}
