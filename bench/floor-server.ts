/**
 * The floor: the thinnest Node server that answers the bridge's two reads with the same LDAP
 * question, for `npm run bench` to measure the bridge against (issue 17). node:http and ldapts, no
 * framework, no mapping, no SCIM: a bearer-token check (constant-time, as the bridge's), one LDAP
 * search per request on a round-robin pool, the entry written out as JSON.
 *
 *   GET {base}/Users/{id}                      (&(objectClass=inetOrgPerson)(entryUUID={id}))
 *   GET {base}/Users?filter=userName eq "{v}"  (&(objectClass=inetOrgPerson)(uid={v}))
 *
 * Both one-level under the People container, for the very attributes the bridge asks slapd for.
 * `framework: 'koa'` answers the same two reads through Koa and @koa/router (the framework the
 * design card fixes for the bridge) instead of bare node:http: the floor any Koa bridge pays.
 * Started as a child process by startFloorProcess(); prints its port on stdout, stops on SIGTERM or
 * when its stdin closes. Loopback only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { Router } from '@koa/router';
import Koa from 'koa';
import { AndFilter, Client, EqualityFilter } from 'ldapts';
import { processCpuMicros } from './measure.ts';

export interface FloorSetup {
  ldapUrl: string;
  bindDn: string;
  bindPassword: string;
  token: string;
  basePath: string;
  searchBase: string;
  attributes: string[];
  pool: number;
  /** `node` (default): node:http alone; `koa`: Koa + @koa/router, one route per read. */
  framework?: 'node' | 'koa';
}

export interface FloorProcess {
  baseUrl: string;
  /** CPU time the process has used so far (user + system, Linux /proc), in microseconds. */
  cpuMicros(): number;
  stop(): Promise<void>;
}

const USER_NAME_EQ = /^userName eq "([^"\\]*)"$/;

function tokenChecker(token: string): (header: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (header) => {
    if (!header?.startsWith('Bearer ')) return false;
    return timingSafeEqual(createHash('sha256').update(header.slice(7)).digest(), expected);
  };
}

type FloorSearch = (attribute: string, value: string) => ReturnType<Client['search']>;

function nodeFloor(
  usersPath: string,
  authorized: (header: string | undefined) => boolean,
  search: FloorSearch,
): http.RequestListener {
  const answer = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  return (req, res) => {
    if (!authorized(req.headers.authorization)) return answer(res, 401, { status: 401 });
    const url = new URL(req.url ?? '/', 'http://floor');
    const eq = url.pathname === usersPath ? USER_NAME_EQ.exec(url.searchParams.get('filter') ?? '') : null;
    const id = url.pathname.startsWith(`${usersPath}/`)
      ? url.pathname.slice(usersPath.length + 1)
      : undefined;
    if (!eq && !id) return answer(res, 404, { status: 404 });
    search(eq ? 'uid' : 'entryUUID', eq ? eq[1]! : id!).then(
      ({ searchEntries }) =>
        eq
          ? answer(res, 200, { totalResults: searchEntries.length, Resources: searchEntries })
          : searchEntries[0]
            ? answer(res, 200, searchEntries[0])
            : answer(res, 404, { status: 404 }),
      () => answer(res, 503, { status: 503 }),
    );
  };
}

/** The same two reads through Koa and @koa/router: one auth middleware, one route each. */
function koaFloor(
  usersPath: string,
  authorized: (header: string | undefined) => boolean,
  search: FloorSearch,
): Koa {
  const app = new Koa();
  const router = new Router();
  router.get(`${usersPath}/:id`, async (ctx) => {
    const { searchEntries } = await search('entryUUID', ctx.params.id ?? '');
    ctx.status = searchEntries[0] ? 200 : 404;
    ctx.body = searchEntries[0] ?? { status: 404 };
  });
  router.get(usersPath, async (ctx) => {
    const eq = USER_NAME_EQ.exec(String(ctx.query.filter ?? ''));
    if (!eq) {
      ctx.status = 404;
      ctx.body = { status: 404 };
      return;
    }
    const { searchEntries } = await search('uid', eq[1]!);
    ctx.body = { totalResults: searchEntries.length, Resources: searchEntries };
  });
  app.use(async (ctx, next) => {
    if (!authorized(ctx.get('Authorization'))) {
      ctx.status = 401;
      ctx.body = { status: 401 };
      return;
    }
    try {
      await next();
    } catch {
      ctx.status = 503;
      ctx.body = { status: 503 };
    }
  });
  app.use(router.routes());
  return app;
}

async function serve(setup: FloorSetup): Promise<void> {
  const clients: Client[] = [];
  for (let i = 0; i < setup.pool; i++) {
    const client = new Client({ url: setup.ldapUrl });
    await client.bind(setup.bindDn, setup.bindPassword);
    clients.push(client);
  }
  let turn = 0;
  const authorized = tokenChecker(setup.token);
  const usersPath = `${setup.basePath}/Users`;
  const search = (attribute: string, value: string) =>
    clients[turn++ % clients.length]!.search(setup.searchBase, {
      scope: 'one',
      filter: new AndFilter({
        filters: [
          new EqualityFilter({ attribute: 'objectClass', value: 'inetOrgPerson' }),
          new EqualityFilter({ attribute, value }),
        ],
      }),
      attributes: setup.attributes,
      sizeLimit: 2,
    });
  const server =
    setup.framework === 'koa'
      ? http.createServer(koaFloor(usersPath, authorized, search).callback())
      : http.createServer(nodeFloor(usersPath, authorized, search));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the floor server has no port');
  process.stdout.write(`${address.port}\n`);
  const stop = () => {
    server.closeAllConnections();
    server.close();
    void Promise.allSettled(clients.map((c) => c.unbind())).then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.stdin.once('close', stop);
  process.stdin.resume();
}

/** Starts the floor server in a process of its own (so its CPU is measured apart from the load). */
export async function startFloorProcess(setup: FloorSetup): Promise<FloorProcess> {
  // BENCH_FLOOR_NODE_ARGS: node options for the floor process alone, e.g. --cpu-prof to compare
  // its profile with the bridge's (BENCH_BRIDGE_NODE_ARGS, bridge-process.ts).
  const nodeArgs = (process.env.BENCH_FLOOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, new URL(import.meta.url).pathname], {
    env: { ...process.env, FLOOR_SETUP: JSON.stringify(setup) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the floor server exited (${code}) before it was ready`)));
  });
  const pid = child.pid!;
  return {
    baseUrl: `http://127.0.0.1:${port}${setup.basePath}`,
    cpuMicros: () => processCpuMicros(pid),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  serve(JSON.parse(process.env.FLOOR_SETUP ?? '{}') as FloorSetup).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
