/**
 * Reconciliation run by the Active Directory feed (its gap path, docs/architecture.md §Change
 * feed) also refreshes what the feed keeps besides the digests: each entry's DN hash and member
 * ids, and the groups kept per member. Without it, the first change of a group after the gap is
 * compared with the member ids of before the gap and repeats the member events the
 * reconciliation's update already covered.
 */
import type { Redis } from 'ioredis';
import { membershipRule } from '../../mapping/compiled.ts';
import type { ReconcileObserver } from '../reconcile.ts';
import { adStateKey, keptStates, recordState, type SeenEntry } from './batch.ts';
import type { AdReader } from './reader.ts';

const SCAN_COUNT = 1000;

export function adStateRefresher(
  redis: Redis,
  keyPrefix: string,
  reader: Pick<AdReader, 'memberIds'>,
): ReconcileObserver {
  return {
    async page(rt, entries) {
      const members = membershipRule(rt);
      const seen: SeenEntry[] = [];
      for (const { id, field, entry } of entries)
        seen.push({
          field,
          id,
          dn: entry.dn,
          // Read as the feed reads them (objectGUIDs through the extended DN control).
          ...(members ? { memberIds: await reader.memberIds(entry.dn, members.ldap) } : {}),
        });
      const fields = seen.map((s) => s.field);
      await recordState(redis, keyPrefix, seen, await keptStates(redis, keyPrefix, fields));
    },
    async walked(seen) {
      let cursor = '0';
      do {
        const [next, flat] = await redis.hscan(adStateKey(keyPrefix), cursor, 'COUNT', SCAN_COUNT);
        cursor = next;
        const fields = flat.filter((_, index) => index % 2 === 0);
        const present = await seen(fields);
        const gone = fields.filter((_, index) => present[index] !== true);
        const ids = gone.map((field) => ({ field, id: field.slice(field.indexOf(':') + 1) }));
        await recordState(redis, keyPrefix, ids, await keptStates(redis, keyPrefix, gone));
      } while (cursor !== '0');
    },
  };
}
