/**
 * One bound directory connection: the ldapts Client and the socket under it, opened (TCP or TLS,
 * StartTLS if configured) and bound as the service account. The pool (pool.ts) decides what runs
 * on it and when it goes.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Client } from 'ldapts';
import { RequestNotSentError } from './errors.ts';
import type { LdapDirectoryOptions } from './options.ts';

/**
 * One Client and the socket under it. `closed` follows the socket itself: after StartTLS, ldapts
 * keeps its close handler on the plain socket it replaced and would go on reporting the Client as
 * connected after the directory hung up.
 */
export class PooledConnection {
  readonly client: Client;
  readonly socket: net.Socket;
  closed = false;

  constructor(client: Client, socket: net.Socket) {
    this.client = client;
    this.socket = socket;
    socket.once('close', () => {
      this.closed = true;
    });
  }

  get usable(): boolean {
    return !this.closed && this.client.isConnected;
  }

  /** Polite unbind (RFC 4511 §4.3) when the connection still works, else just the socket. */
  dispose(): void {
    if (!this.usable) {
      this.socket.destroy();
      return;
    }
    this.client.unbind().catch(() => this.socket.destroy());
  }
}

/**
 * Requests sent on one connection during the same turn of the event loop leave in one write:
 * under load many SCIM requests are handled per turn, and a write system call per LDAP message
 * was the largest single cost of a GET (measured with --cpu-prof). The socket is corked until the
 * check phase of this turn (setImmediate), so a lone request waits for no timer.
 */
export function coalesceWrites(socket: net.Socket): void {
  if (socket.writableCorked > 0 || socket.destroyed) return;
  socket.cork();
  setImmediate(() => socket.uncork());
}

/** One TCP (or TLS) connection, upgraded with StartTLS if configured, bound as the service account. */
export async function openConnection(options: LdapDirectoryOptions): Promise<PooledConnection> {
  const url = new URL(options.url);
  let socket: net.Socket | undefined;
  const remember = (created: net.Socket) => {
    socket = created;
  };
  const client = new Client({
    url: options.url,
    connectTimeout: options.connectTimeoutMs,
    timeout: options.operationTimeoutMs,
    ...(url.protocol === 'ldaps:'
      ? {
          tlsOptions: tlsOptions(options, url.hostname),
          createSecureConnection: connectOnce(tls.connect, remember),
        }
      : { createConnection: connectOnce(net.connect, remember) }),
  });
  try {
    if (options.startTls) await client.startTLS(tlsOptions(options, url.hostname));
    if (options.bindDn) await client.bind(options.bindDn, options.bindPassword ?? '');
    if (!socket) throw new RequestNotSentError('ldapts opened no socket');
    return new PooledConnection(client, socket);
  } catch (error) {
    socket?.destroy();
    throw error;
  }
}

function tlsOptions(options: LdapDirectoryOptions, hostname: string): tls.ConnectionOptions {
  const configured = options.tls ?? {};
  // The server's certificate is checked against serverName, else the URL's host.
  const serverName = configured.serverName ?? (net.isIP(hostname) === 0 ? hostname : undefined);
  return {
    host: hostname,
    ...(serverName ? { servername: serverName } : {}),
    ...(configured.ca !== undefined ? { ca: configured.ca } : {}),
    rejectUnauthorized: configured.rejectUnauthorized ?? true,
  };
}

/**
 * Wraps a connect function so that it works once per Client, and hands the socket to `created`.
 * ldapts calls it again when a Client whose socket closed is used; refusing makes that a transport
 * failure the pool handles.
 */
function connectOnce<F extends (...args: never[]) => net.Socket>(
  connect: F,
  created: (socket: net.Socket) => void,
): F {
  let used = false;
  return ((...args: Parameters<F>) => {
    if (used) throw new RequestNotSentError('connection to the directory was lost');
    used = true;
    const socket = connect(...args);
    created(socket);
    return socket;
  }) as F;
}
