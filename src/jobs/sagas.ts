/**
 * Provisioning sagas (issue 6): a service marked `required` must take every new user or group
 * before the bridge enables it. The journal records a saga with the created event; each worker
 * marks its required service's delivery confirmed or failed; the bridge process settles finished
 * sagas against the directory (enable; or compensate: keep disabled or delete) — the settling
 * needs the directory and the mappings, which only a bridge process has.
 *
 *   saga:<type>:<id>   hash {eventId, required (JSON), activate, state, confirmed:<svc>, reason}
 *   saga:settle        sorted set of finished sagas waiting to be applied, scored by time
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { EventsConfig } from '../config/index.ts';
import type { ChangeEvent, SagaOutcome } from '../ports/events.ts';
import type { JobLog } from './log.ts';
import { matchesEventType } from './publisher.ts';

export function sagaKeys(keyPrefix: string) {
  return {
    saga: (resourceType: string, resourceId: string) => `${keyPrefix}saga:${resourceType}:${resourceId}`,
    settle: `${keyPrefix}saga:settle`,
  };
}

/** The services that must confirm an event of this type before its resource is enabled. */
export function requiredServices(events: EventsConfig, eventType: string): string[] {
  return events.services
    .filter((s) => s.required && matchesEventType(s.eventTypes, eventType))
    .map((s) => s.name);
}

/** Adds the saga of a created event to the journal's commit transaction (so both or neither). */
export function recordSaga(
  multi: ChainableCommander,
  keyPrefix: string,
  event: ChangeEvent,
  required: string[],
): void {
  if (event.change !== 'created' || event.pendingActivation === undefined || required.length === 0) return;
  multi.hsetnx(sagaKeys(keyPrefix).saga(event.resourceType, event.resourceId), 'eventId', event.eventId);
  multi.hset(sagaKeys(keyPrefix).saga(event.resourceType, event.resourceId), {
    required: JSON.stringify(required),
    activate: event.pendingActivation ? '1' : '0',
  });
  multi.hsetnx(sagaKeys(keyPrefix).saga(event.resourceType, event.resourceId), 'state', 'pending');
}

/**
 * A required service took (or finally refused) a created event. When every required service has
 * confirmed, or one has failed, the saga is finished and queued for settling. Atomic in Lua, so two
 * workers confirming at once cannot both (or neither) finish it.
 */
const MARK = `
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return 0 end
if redis.call('HGET', key, 'eventId') ~= ARGV[1] then return 0 end
if redis.call('HGET', key, 'state') ~= 'pending' then return 0 end
if ARGV[3] == 'failed' then
  redis.call('HSET', key, 'state', 'failed', 'reason', ARGV[2] .. ': ' .. ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[5], key)
  return 1
end
redis.call('HSET', key, 'confirmed:' .. ARGV[2], '1')
local required = cjson.decode(redis.call('HGET', key, 'required'))
for _, name in ipairs(required) do
  if redis.call('HGET', key, 'confirmed:' .. name) ~= '1' then return 0 end
end
redis.call('HSET', key, 'state', 'confirmed')
redis.call('ZADD', KEYS[2], ARGV[5], key)
return 1
`;

export async function markSagaDelivery(
  redis: Redis,
  keyPrefix: string,
  event: ChangeEvent,
  service: string,
  result: { ok: true } | { ok: false; reason: string },
): Promise<void> {
  if (event.change !== 'created') return;
  const keys = sagaKeys(keyPrefix);
  await redis.eval(
    MARK,
    2,
    keys.saga(event.resourceType, event.resourceId),
    keys.settle,
    event.eventId,
    service,
    result.ok ? 'confirmed' : 'failed',
    result.ok ? '' : result.reason,
    String(Date.now()),
  );
}

/** Applies finished sagas (at most `limit` per call); a saga is removed only once applied. */
export async function settleSagas(
  redis: Redis,
  keyPrefix: string,
  apply: (outcome: SagaOutcome) => Promise<void>,
  log: JobLog,
  limit = 100,
): Promise<number> {
  const keys = sagaKeys(keyPrefix);
  const finished = await redis.zrange(keys.settle, '0', String(limit - 1));
  let settled = 0;
  for (const key of finished) {
    const saga = await redis.hgetall(key);
    const [, resourceType = '', resourceId = ''] = key.slice(keyPrefix.length).split(':');
    if (!saga.state || saga.state === 'pending') {
      await redis.zrem(keys.settle, key);
      continue;
    }
    const outcome: SagaOutcome = {
      resourceType,
      resourceId,
      outcome: saga.state === 'confirmed' ? 'confirmed' : 'failed',
      activate: saga.activate === '1',
      services: JSON.parse(saga.required ?? '[]') as string[],
      ...(saga.reason ? { reason: saga.reason } : {}),
    };
    try {
      await apply(outcome);
      await redis.multi().del(key).zrem(keys.settle, key).exec();
      settled++;
    } catch (error) {
      // Left queued: the next round tries again (the directory may be down).
      log.warn(
        { resourceType, resourceId, err: (error as Error).message },
        'events: settling a provisioning saga failed',
      );
    }
  }
  return settled;
}
