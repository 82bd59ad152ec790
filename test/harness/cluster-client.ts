/**
 * A SCIM client for the local cluster (src/localdev/cluster.ts): HTTPS to HAProxy, trusting only
 * the cluster's self-signed certificate, keep-alive connections, a timeout on every request.
 * Used by the cluster tests and `npm run bench -- --cluster`.
 */
import { Agent, request } from 'node:https';

export interface ClusterResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface ClusterClient {
  send(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number },
  ): Promise<ClusterResponse>;
  close(): void;
}

export function clusterClient(
  baseUrl: string,
  token: string,
  certificate: string,
  sockets = 16,
): ClusterClient {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets, ca: certificate });
  return {
    send(method, path, options = {}) {
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      return new Promise((resolve, reject) => {
        const req = request(
          `${baseUrl}${path}`,
          {
            method,
            agent,
            headers: {
              Authorization: `Bearer ${token}`,
              Accept: 'application/scim+json',
              ...(body !== undefined
                ? { 'Content-Type': 'application/scim+json', 'Content-Length': Buffer.byteLength(body) }
                : {}),
              ...options.headers,
            },
            timeout: options.timeoutMs ?? 10_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown;
              try {
                parsed = text ? JSON.parse(text) : undefined;
              } catch {
                parsed = undefined;
              }
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
