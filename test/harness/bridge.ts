/**
 * Test harness: a whole bridge in-process against its own throwaway slapd and redis-server on
 * free loopback ports (the same local default `npm start` uses), plus a small SCIM client.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'ldapts';
import { loadConfig } from '../../src/config/index.ts';
import { SAMPLE_LDIF } from '../../src/localdev/slapd.ts';
import { createLogger, type RunningBridge, startBridge } from '../../src/main.ts';

export interface TestBridge {
  bridge: RunningBridge;
  token: string;
  baseUrl: string;
  request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ScimResponse>;
  stop(): Promise<void>;
}

export interface ScimResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface TestBridgeOptions {
  seed?: 'sample' | 'empty';
  env?: Record<string, string>;
  /** Receives every log line the bridge writes (JSON text). */
  logLines?: string[];
}

export async function startTestBridge(options: TestBridgeOptions = {}): Promise<TestBridge> {
  const token = randomBytes(18).toString('base64url');
  const config = loadConfig({
    env: {
      SCIM_BRIDGE_TOKEN: token,
      SCIM_BRIDGE_SERVER_PORT: '0',
      SCIM_BRIDGE_LOG_LEVEL: 'silent',
      ...options.env,
    },
  });
  const lines = options.logLines;
  const logger = lines ? createLogger('info', { write: (line: string) => void lines.push(line) }) : undefined;
  // Local binaries: hostile and readiness tests stop and resume slapd and redis by pid.
  const bridge = await startBridge({
    config,
    seedLdif: options.seed === 'empty' ? [] : [SAMPLE_LDIF],
    ...(logger ? { logger } : {}),
  });
  const baseUrl = bridge.baseUrl;
  return {
    bridge,
    token,
    baseUrl,
    async request(method, path, body, headers = {}) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: 'application/scim+json',
          ...(body !== undefined ? { 'Content-Type': 'application/scim+json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
    stop: () => bridge.stop(),
  };
}

/**
 * A raw ldapts client bound as the root of the test bridge's own slapd: tests check the directory
 * with it, independently of the bridge. The caller unbinds it.
 */
export async function rootClientOf(t: TestBridge): Promise<Client> {
  const slapd = t.bridge.local?.slapd;
  if (!slapd) throw new Error('the test bridge should run its own slapd');
  const client = new Client({ url: slapd.url });
  await client.bind(slapd.rootDn, slapd.rootPassword);
  return client;
}
