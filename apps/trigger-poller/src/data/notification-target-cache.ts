import { LRUCache } from 'lru-cache';
import type { TriggerPollerDatabase } from './database';
import { isKnownServiceKey } from './partner-repository';
import { findNotifiedTriggerIdentities } from './subscription-repository';

/** Options of {@link NotificationTargetCache}. */
export interface NotificationTargetCacheOptions {
  /** How long a key digest or a trigger identity found in Postgres is trusted without a lookup, ms; 0: never. */
  ttlMs: number;
  /** Most trigger identities kept (least recently used go first); default 100,000 (about 20 MB at most). */
  maxIdentities?: number;
}

/** Most partner key digests kept: one per partner, so far above any real count. */
const MAX_KEYS = 10_000;

/**
 * What a realtime notification is checked against (the partner's key digest, and which trigger identities
 * belong to that partner's subscriptions), remembered for `ttlMs` after Postgres said yes, so that a partner
 * notifying the same identities again costs no database round trip (a 1-entry notification then costs one
 * Redis call: the enqueue). Only answers Postgres gave are kept (`lru-cache`, well kept, TTL and size bound
 * in one place): an unknown key or identity is looked up every time, so a key or subscription added a moment
 * ago works at once. What the TTL costs, by design: for up to `ttlMs` after a partner's key changed or a
 * subscription was removed, the old key is still accepted and the removed identity still matched (its poll
 * then finds no subscription and does nothing). `user_id` entries are always looked up (they expand to
 * whatever subscriptions the user has now).
 *
 * @example
 *   const targets = new NotificationTargetCache(db, { ttlMs: 10_000 });
 *   if (!(await targets.isKnownServiceKey(digest))) throw new HttpProblem(401);
 *   const identities = await targets.findNotifiedTriggerIdentities(digest, { triggerIdentities: ['ti_1'], userIds: [] });
 */
export class NotificationTargetCache {
  private readonly keys: LRUCache<string, true> | undefined;
  private readonly identities: LRUCache<string, true> | undefined;

  constructor(
    private readonly db: TriggerPollerDatabase,
    options: NotificationTargetCacheOptions,
  ) {
    if (options.ttlMs > 0) {
      this.keys = new LRUCache({ max: MAX_KEYS, ttl: options.ttlMs });
      this.identities = new LRUCache({ max: options.maxIdentities ?? 100_000, ttl: options.ttlMs });
    }
  }

  /** Whether the digest was found valid less than `ttlMs` ago: no lookup, no I/O (the pre-auth limiter's `skip`). */
  knowsServiceKey(serviceKeySha256: string): boolean {
    return this.keys?.get(serviceKeySha256) === true;
  }

  /** {@link isKnownServiceKey}, answered from memory when Postgres said yes less than `ttlMs` ago. */
  async isKnownServiceKey(serviceKeySha256: string): Promise<boolean> {
    if (this.knowsServiceKey(serviceKeySha256)) return true;
    const known = await isKnownServiceKey(this.db, serviceKeySha256);
    if (known) this.keys?.set(serviceKeySha256, true);
    return known;
  }

  /**
   * {@link findNotifiedTriggerIdentities}: identities this partner's subscriptions had less than `ttlMs` ago
   * come from memory; the others and every user id in one query. Distinct, in no order.
   */
  async findNotifiedTriggerIdentities(
    serviceKeySha256: string,
    named: { triggerIdentities: readonly string[]; userIds: readonly string[] },
  ): Promise<string[]> {
    const cache = this.identities;
    if (cache === undefined) return findNotifiedTriggerIdentities(this.db, serviceKeySha256, named);
    const found = new Set<string>();
    const unknown: string[] = [];
    for (const identity of named.triggerIdentities) {
      if (cache.get(identityKey(serviceKeySha256, identity)) === true) found.add(identity);
      else unknown.push(identity);
    }
    if (unknown.length > 0 || named.userIds.length > 0) {
      const looked = await findNotifiedTriggerIdentities(this.db, serviceKeySha256, {
        triggerIdentities: unknown,
        userIds: named.userIds,
      });
      for (const identity of looked) {
        cache.set(identityKey(serviceKeySha256, identity), true);
        found.add(identity);
      }
    }
    return [...found];
  }
}

/** One cache key per (partner key digest, trigger identity): a partner never matches another's identity. */
function identityKey(serviceKeySha256: string, triggerIdentity: string): string {
  return `${serviceKeySha256} ${triggerIdentity}`;
}
