/**
 * Calls the console's page handlers directly, as the console's core would after authenticating
 * the request and checking its CSRF token: a plain principal, a token string. The handlers run
 * against the test bridge's real slapd and Redis, through the same use cases the bridge serves.
 */

import { htmlText } from '../../../src/admin/html.ts';
import { AdminProblem, type AdminRequest, type AdminRoute } from '../../../src/admin/page.ts';
import { type AdminPagesDeps, adminPages } from '../../../src/admin/pages/index.ts';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { MappingStore } from '../../../src/mapping/reload.ts';
import { ResourceService } from '../../../src/services/resources/service.ts';
import type { TestBridge } from '../../harness/bridge.ts';

export const CSRF = 'test-csrf-token-0123456789';

export type Outcome =
  | { kind: 'page'; status: number; title: string; html: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'problem'; status: number; message: string };

export interface Pages {
  routes: AdminRoute[];
  store: MappingStore;
  get(url: string): Promise<Outcome>;
  post(path: string, form: Record<string, string>): Promise<Outcome>;
  close(): void;
}

/** The route whose pattern matches `path`, with its decoded parameters. */
function match(routes: AdminRoute[], method: string, path: string) {
  const parts = path.split('/');
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((p, i) => {
      const part = parts[i] ?? '';
      if (p.startsWith(':')) {
        params[p.slice(1)] = decodeURIComponent(part);
        return part !== '';
      }
      return p === part;
    });
    if (ok) return { route, params };
  }
  return undefined;
}

/**
 * The pages of the test bridge `t`. The mapping store watches the bridge's own mapping directory
 * (`mappingsDir`), as the bridge's does.
 */
export function pagesFor(t: TestBridge, mappingsDir = 'mappings/openldap'): Pages {
  const store = new MappingStore(mappingsDir, { catalog: STANDARD_SCHEMAS, debounceMs: 50 });
  store.watch();
  const resources = new ResourceService({
    directory: t.bridge.directory,
    mappings: store.mappings,
    limits: { defaultPageSize: 100, maxPageSize: 1000, maxFilterLength: 10_000, maxMembersReturned: 1000 },
  });
  const deps: AdminPagesDeps = {
    mappings: store,
    resources,
    directory: t.bridge.directory,
    ...(t.bridge.events ? { deliveries: t.bridge.events.admin } : {}),
    scimBaseUrl: t.baseUrl,
  };
  const routes = adminPages(deps);
  const call = async (
    method: 'GET' | 'POST',
    url: string,
    form: Record<string, string>,
  ): Promise<Outcome> => {
    const parsed = new URL(url, 'http://console.invalid');
    const found = match(routes, method, parsed.pathname);
    if (!found) return { kind: 'problem', status: 404, message: `no route ${method} ${parsed.pathname}` };
    const request: AdminRequest = {
      method,
      path: parsed.pathname,
      params: found.params,
      query: parsed.searchParams,
      form,
      principal: { subject: 'test-admin', via: 'token' },
      csrfToken: CSRF,
      requestId: 'test',
      clientIp: '127.0.0.1',
    };
    try {
      const response = await found.route.handle(request);
      if (response.kind === 'redirect') return response;
      return {
        kind: 'page',
        status: response.status ?? 200,
        title: response.title,
        html: htmlText(response.body),
      };
    } catch (error) {
      if (error instanceof AdminProblem)
        return { kind: 'problem', status: error.status, message: error.message };
      throw error;
    }
  };
  return {
    routes,
    store,
    get: (url) => call('GET', url, {}),
    post: (path, form) => call('POST', path, form),
    close: () => store.close(),
  };
}

/** The page's HTML; fails the test with the outcome when it is not a page. */
export function pageHtml(outcome: Outcome): string {
  if (outcome.kind !== 'page') throw new Error(`expected a page, got ${JSON.stringify(outcome)}`);
  return outcome.html;
}

/** Text as the page escapes it (html.ts escapeHtml). */
export function escaped(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
