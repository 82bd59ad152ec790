/**
 * Self time of a V8 .cpuprofile (`node --cpu-prof`, e.g. the bridge under load with
 * BENCH_BRIDGE_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"), summed per group (idle, GC, socket
 * writes, ldapts, Koa and its helpers, node internals, each src/ layer), per module and per
 * function. With a request count, also in µs per request.
 *
 *   node bench/cpuprofile-summary.ts FILE.cpuprofile [REQUESTS] [TOP]
 *
 * The profiler samples wall time: a sample inside a system call (writev) also counts the time the
 * thread waited there, preempted; process CPU from /proc (what the benchmarks print) is the
 * measure, this says where to look.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const KOA =
  /node_modules\/(koa|@koa|koa-compose|delegates|on-finished|ee-first|statuses|http-errors|vary|type-is|mime|accepts|encodeurl|only|path-to-regexp|depd)\//;
const WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String']);

function groupOf(node: ProfileNode): string {
  const { functionName: name, url } = node.callFrame;
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'garbage collector';
  if (WRITES.has(name)) return 'socket writes';
  if (!url) return 'other native';
  if (url.includes('node_modules/ldapts/')) return 'ldapts';
  if (KOA.test(url)) return 'koa and its helpers';
  if (url.includes('node_modules/'))
    return `package ${url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')}`;
  if (url.startsWith('node:')) return 'node internals';
  const layer = /\/src\/([^/]+)/.exec(url);
  return layer ? `src/${layer[1]}` : url.replace(/.*\//, '');
}

function moduleOf(node: ProfileNode): string {
  const { functionName: name, url } = node.callFrame;
  if (!url) return `(native) ${name}`;
  if (url.includes('node_modules/')) return url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1');
  return url.replace(/^file:\/\//, '').replace(/.*\/(src|bench)\//, '$1/');
}

function table(title: string, totals: Map<string, number>, all: number, requests: number, top: number): void {
  console.log(`--- ${title}`);
  for (const [key, micros] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const perRequest = requests > 0 ? `${(micros / requests).toFixed(1).padStart(7)} µs/req  ` : '';
    console.log(`${((100 * micros) / all).toFixed(1).padStart(5)}%  ${perRequest}${key}`);
  }
}

function summarize(file: string, requests: number, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const groups = new Map<string, number>();
  const modules = new Map<string, number>();
  const functions = new Map<string, number>();
  let all = 0;
  const add = (map: Map<string, number>, key: string, micros: number) =>
    map.set(key, (map.get(key) ?? 0) + micros);
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id) ?? 0;
    if (micros === 0) continue;
    all += micros;
    add(groups, groupOf(node), micros);
    add(modules, moduleOf(node), micros);
    const { functionName, lineNumber } = node.callFrame;
    add(functions, `${functionName || '(anonymous)'} ${moduleOf(node)}:${lineNumber + 1}`, micros);
  }
  console.log(`${file}: ${(all / 1e6).toFixed(2)} s sampled${requests > 0 ? `, ${requests} requests` : ''}`);
  table('by group', groups, all, requests, top);
  table('by module', modules, all, requests, top);
  table('by function', functions, all, requests, top);
}

const [file, requests = '0', top = '30'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cpuprofile-summary.ts FILE.cpuprofile [REQUESTS] [TOP]');
  process.exit(2);
}
summarize(file, Number(requests), Number(top));
