import { createHash } from 'node:crypto';

/**
 * SHA-256 hex of a partner's service key: what subscriptions are matched by when a realtime notification
 * arrives, so the lookup is an index probe on a digest, never a comparison of secrets. Service keys are
 * long random values, so a fast hash is enough.
 *
 * @example
 *   const rows = await findNotifiedTriggerIdentities(db, hashServiceKey(req.get('ifttt-service-key')!), entries);
 */
export function hashServiceKey(serviceKey: string): string {
  return createHash('sha256').update(serviceKey, 'utf8').digest('hex');
}
