/**
 * /metrics under `server.workers` (node:cluster): a scrape reaches one worker, which asks the
 * primary for the sum of every worker's registry (prom-client's AggregatorRegistry, over the
 * cluster's IPC channel) and answers with it; counters and histograms add up, gauges are summed
 * too (prom-client's default). Outside a cluster a scrape shows this process's own registry.
 */
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry } from 'prom-client';
import { registry } from './metrics.ts';

const REQUEST = 'scim-bridge:metrics-request';
const ANSWER = 'scim-bridge:metrics-answer';
/** A primary that does not answer within this long: the worker shows its own registry. */
const ANSWER_WITHIN_MS = 3_000;

interface MetricsMessage {
  type: string;
  id: string;
  text?: string;
}

function isMetricsMessage(message: unknown, type: string): message is MetricsMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as MetricsMessage).type === type &&
    typeof (message as MetricsMessage).id === 'string'
  );
}

const pending = new Map<string, (text: string) => void>();
let inWorker = false;

/** In a worker: answers the primary's collection with this registry, and scrapes ask the primary. */
export function shareMetricsWithPrimary(): void {
  if (!cluster.isWorker || inWorker) return;
  inWorker = true;
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs prom-client's listener that answers the primary's collection.
  new AggregatorRegistry();
  process.on('message', (message: unknown) => {
    if (!isMetricsMessage(message, ANSWER)) return;
    pending.get(message.id)?.(message.text ?? '');
    pending.delete(message.id);
  });
}

/** In the primary: sums the workers' registries for whichever worker asks. */
export function aggregateWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMetricsMessage(message, REQUEST)) return;
    aggregator
      .clusterMetrics()
      .catch((error: Error) => `# metrics of the workers could not be collected: ${error.message}\n`)
      .then((text) => worker.send({ type: ANSWER, id: message.id, text }));
  });
}

/** The text a scrape gets: every worker's sum in a cluster, else this process's registry. */
export function metricsText(): Promise<string> {
  if (!inWorker || !process.send) return registry.metrics();
  const id = randomUUID();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      resolve(registry.metrics());
    }, ANSWER_WITHIN_MS);
    pending.set(id, (text) => {
      clearTimeout(timer);
      resolve(text);
    });
    process.send?.({ type: REQUEST, id });
  });
}
