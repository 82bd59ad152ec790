/**
 * A real webhook receiver for the events tests: node:http on 127.0.0.1, verifying each request's
 * signature the way the README tells receivers to, de-duplicating on the event id.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../../src/jobs/webhooks.ts';

export interface Delivery {
  eventId: string;
  timestamp: string;
  signature: string;
  signatureValid: boolean;
  body: string;
  event: any;
  status: number;
}

/** How the receiver answers: 200, a fixed status, or 'drop' (close the connection unanswered). */
export type ReceiverMode = number | 'drop';

export interface Receiver {
  url: string;
  /** Every request that arrived, in arrival order (answered or not). */
  requests: Delivery[];
  /** Answered 2xx, first arrival of each event id only (receiver-side de-duplication). */
  accepted(): Delivery[];
  mode: ReceiverMode;
  /** Extra headers on non-2xx answers (Retry-After). */
  headers: Record<string, string>;
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(secret: string): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    requests: [],
    mode: 200,
    headers: {},
    accepted() {
      const seen = new Set<string>();
      return receiver.requests.filter((d) => {
        if (d.status < 200 || d.status > 299 || seen.has(d.eventId)) return false;
        seen.add(d.eventId);
        return true;
      });
    },
    async waitFor(predicate, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(req.headers['x-scim-bridge-timestamp'] ?? '');
      const signature = String(req.headers['x-scim-bridge-signature'] ?? '');
      const mode = receiver.mode;
      let event: unknown;
      try {
        event = JSON.parse(body);
      } catch {
        event = undefined;
      }
      receiver.requests.push({
        eventId: String(req.headers['x-scim-bridge-event-id'] ?? ''),
        timestamp,
        signature,
        signatureValid: verifySignature(secret, timestamp, body, signature),
        body,
        event,
        status: mode === 'drop' ? 0 : mode,
      });
      if (mode === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(mode, mode >= 200 && mode < 300 ? {} : receiver.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/scim`;
  return receiver;
}
