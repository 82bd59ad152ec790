/**
 * Where a request came from and which URL the client used: the peer address, the scheme and the
 * host that `Location` and `meta.location` are built on when `server.publicBaseUrl` is not set
 * (RFC 7644 §3.1). The Host header is the client's: it is checked against the host[:port] syntax
 * (RFC 9112 §3.2 asks for 400 when it is invalid) so no path, query or user info ever reaches a URL
 * the bridge writes. X-Forwarded-For/-Proto/-Host are honoured only from the proxies listed in
 * `server.trustProxy`; anyone else could write them.
 */
import { BlockList, isIP } from 'node:net';
import type { Context, Next } from 'koa';
import { ScimError } from '../../scim/errors.ts';

export interface RequestOrigin {
  /** The client's address: the peer, or the first untrusted hop of X-Forwarded-For behind trusted proxies. */
  address: string;
  protocol: 'http' | 'https';
  /** host[:port], checked. */
  host: string;
}

/** A DNS name (labels of letters, digits, '-' and '_'), an IPv4 address, or an IPv6 literal in brackets. */
const HOST =
  /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*\.?)(?::(\d{1,5}))?$/;

/** True for host[:port] as a Host header may carry it (RFC 9110 §7.2, RFC 3986 §3.2.2). */
export function isValidHost(value: string): boolean {
  if (value.length > 261) return false;
  const match = HOST.exec(value);
  if (!match) return false;
  const [, name = '', port] = match;
  if (name.startsWith('[') && isIP(name.slice(1, -1)) !== 6) return false;
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65_535);
}

/** The proxies `server.trustProxy` lists (addresses or CIDR ranges, IPv4 or IPv6). */
export function trustedProxies(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) as `10.0.0.1`. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** The values of a comma-separated header, in order, each trimmed. */
function listHeader(ctx: Context, name: string): string[] {
  const value = ctx.get(name);
  return value === '' ? [] : value.split(',').map((v) => v.trim());
}

/**
 * The client's address behind trusted proxies: from the right of X-Forwarded-For, each hop a
 * trusted proxy appended is skipped; the first address it did not vouch for is the client.
 */
function forwardedAddress(peer: string, forwardedFor: string[], trusted: (a: string) => boolean): string {
  let address = peer;
  for (let i = forwardedFor.length - 1; i >= 0 && trusted(address); i--) {
    const hop = plainAddress(forwardedFor[i] ?? '');
    if (isIP(hop) === 0) break;
    address = hop;
  }
  return address;
}

/** The listener's own address, for an HTTP/1.0 request without Host. */
function localHost(address: string, port: number | undefined): string {
  const name = isIP(plainAddress(address)) === 6 ? `[${address}]` : plainAddress(address);
  return port ? `${name}:${port}` : name;
}

export function requestOrigin(trustProxy: readonly string[]) {
  const trusted = trustedProxies(trustProxy);
  return function origin(ctx: Context, next: Next): Promise<void> {
    const socket = ctx.req.socket;
    const peer = plainAddress(socket.remoteAddress ?? '');
    const encrypted = (socket as { encrypted?: boolean }).encrypted === true;
    let protocol: RequestOrigin['protocol'] = encrypted ? 'https' : 'http';
    let host = ctx.get('Host');
    let address = peer;
    if (trusted(peer)) {
      // The nearest proxy appends last: its value is the one to believe.
      const proto = listHeader(ctx, 'X-Forwarded-Proto').at(-1)?.toLowerCase();
      if (proto === 'http' || proto === 'https') protocol = proto;
      host = listHeader(ctx, 'X-Forwarded-Host').at(-1) || host;
      address = forwardedAddress(peer, listHeader(ctx, 'X-Forwarded-For'), trusted);
    }
    if (host === '') host = localHost(socket.localAddress ?? '127.0.0.1', socket.localPort);
    if (!isValidHost(host)) {
      throw ScimError.badRequest('the Host header is not a host name or address with an optional port');
    }
    ctx.state.origin = { address, protocol, host } satisfies RequestOrigin;
    // No async frame of its own: nothing to do afterwards (this runs on every request).
    return next();
  };
}
