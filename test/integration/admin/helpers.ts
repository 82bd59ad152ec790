/**
 * A plain HTTP client for the admin console (no browser): it keeps the console's cookies, reads
 * the CSRF token out of the forms and signs in with a token the way the sign-in page does.
 */
export interface ConsoleAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly location: string | null;
}

export class ConsoleClient {
  readonly origin: string;
  readonly cookies = new Map<string, string>();

  constructor(origin: string) {
    this.origin = origin;
  }

  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async get(path: string): Promise<ConsoleAnswer> {
    return this.#send(path, { method: 'GET' });
  }

  /** A form POST; `headers` replace the defaults (Origin = the console's own origin). */
  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
    return this.#send(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: this.origin, ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  }

  async #send(path: string, init: RequestInit): Promise<ConsoleAnswer> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('Cookie', this.cookieHeader);
    for (const [name, value] of Object.entries(init.headers ?? {})) {
      if (value === '') headers.delete(name);
    }
    const response = await fetch(`${this.origin}${path}`, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (/Max-Age=0/.test(cookie) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return {
      status: response.status,
      headers: response.headers,
      text: await response.text(),
      location: response.headers.get('location'),
    };
  }

  /** Signs in with a bearer token through the sign-in form; returns the POST's answer. */
  async signIn(token: string, next = '/admin'): Promise<ConsoleAnswer> {
    const page = await this.get(`/admin/sign-in?next=${encodeURIComponent(next)}`);
    return this.post('/admin/sign-in', { _csrf: csrfOf(page.text), token, next });
  }

  get sessionId(): string {
    return this.cookies.get('__Host-scim_bridge_admin') ?? '';
  }
}

/** The CSRF token of the first form in a page. */
export function csrfOf(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('the page has no form with a CSRF token');
  return token;
}

/** The console pages the navigation links to. */
export function navLinks(html: string): string[] {
  const nav = /<nav aria-label="Console">([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? '';
  return [...nav.matchAll(/href="([^"]+)"/g)].map((m) => m[1] ?? '');
}
