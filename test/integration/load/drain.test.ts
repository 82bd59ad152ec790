/**
 * Graceful drain (issue 17): a bridge process sent SIGTERM under load finishes every request it
 * accepted (each answered 200), refuses new connections, and exits. A request is lost when its
 * connection is cut after it was sent; a refused connection is not (the client knows nothing
 * was done). The bridge runs in a child process, as in production. Clients keep their
 * connections alive, as a load balancer does: a connection still in the kernel's accept queue
 * when the listener closes is reset by TCP itself, which is why an orchestrator takes the
 * instance out of rotation (it sees /ready 503) before the listener closes (README).
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BridgeProcess, startBridgeProcess } from '../../../bench/bridge-process.ts';
import { SAMPLE_LDIF } from '../../../src/localdev/slapd.ts';

const CLIENTS = 8;
const token = randomBytes(18).toString('base64url');
let bridge: BridgeProcess;

beforeAll(async () => {
  bridge = await startBridgeProcess(token, [SAMPLE_LDIF]);
});
afterAll(async () => {
  await bridge?.stop();
});

type Outcome =
  | { kind: 'answered'; status: number; startedBeforeTerm: boolean }
  | { kind: 'refused' }
  | { kind: 'lost'; error: string; startedBeforeTerm: boolean };

/** One GET on the agent's kept-alive connections; a refusal is a connect that failed. */
function get(agent: Agent, url: string, sentBeforeTerm: () => boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    let sent = false;
    const before = sentBeforeTerm();
    const req = request(url, { agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.once('end', () =>
        resolve({ kind: 'answered', status: res.statusCode ?? 0, startedBeforeTerm: before }),
      );
      res.once('error', (error) =>
        resolve({ kind: 'lost', error: error.message, startedBeforeTerm: before }),
      );
    });
    req.once('socket', (socket) => {
      if (!socket.connecting) sent = true;
      else socket.once('connect', () => (sent = true));
    });
    req.once('error', (error: NodeJS.ErrnoException) =>
      resolve(
        !sent && error.code === 'ECONNREFUSED'
          ? { kind: 'refused' }
          : { kind: 'lost', error: `${error.code}: ${error.message}`, startedBeforeTerm: before },
      ),
    );
    req.end();
  });
}

describe('graceful drain on SIGTERM', () => {
  it('answers every accepted request, refuses new connections, then exits', async () => {
    let terminated = false;
    const outcomes: Outcome[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const client = async () => {
      // Until connections are refused (the listener closed), bounded.
      for (let n = 0; n < 2_000; n++) {
        const outcome = await get(agent, `${bridge.baseUrl}/Users?count=5`, () => !terminated);
        outcomes.push(outcome);
        if (outcome.kind !== 'answered') return;
        // The answered socket goes back to the agent's pool on the next turn: reuse it.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const exited = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        try {
          process.kill(bridge.pid, 0);
        } catch {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    process.kill(bridge.pid, 'SIGTERM');
    terminated = true;
    await Promise.all(clients);
    await exited;
    agent.destroy();

    const lost = outcomes.filter((o) => o.kind === 'lost');
    const answered = outcomes.filter((o) => o.kind === 'answered');
    const inFlightAtTerm = answered.filter((o) => o.startedBeforeTerm).length;
    console.log(
      `drain: ${answered.length} answered (${inFlightAtTerm} sent before SIGTERM), ${outcomes.length - answered.length - lost.length} refused, ${lost.length} lost`,
    );
    expect(
      lost.map((o) =>
        o.kind === 'lost' ? `${o.error} (sent ${o.startedBeforeTerm ? 'before' : 'after'} SIGTERM)` : '',
      ),
    ).toEqual([]);
    expect(answered.length).toBeGreaterThan(CLIENTS);
    expect(answered.filter((o) => o.status !== 200)).toEqual([]);
    expect(outcomes.filter((o) => o.kind === 'refused').length).toBe(CLIENTS);
  });
});
