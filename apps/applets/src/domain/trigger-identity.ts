import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import type { StepFields } from './step-fields';

/** Sorted-key JSON that throws on anything JSON cannot represent, rather than silently dropping it. */
const canonicalJson = configure({ deterministic: true, strict: true });

/** What a trigger identity stands for: one user's use of one trigger with one set of field values. */
export interface TriggerIdentityInput {
  userId: string;
  serviceSlug: string;
  triggerSlug: string;
  fields: StepFields;
}

/**
 * Derives the Service API's `trigger_identity`: the SHA-256 hex of the canonical JSON (keys sorted at every
 * depth) of user, service, trigger and fields. Two applets of one user with the same trigger and field
 * values share an identity, so the engine polls the partner once for both; the value must never change
 * for the same input, since partners store it. `safe-stable-stringify` gives the sorted-key JSON
 * (it is pino's own dependency, so no new code in the tree).
 *
 * @example
 *   computeTriggerIdentity({ userId: '1', serviceSlug: 'weather', triggerSlug: 'rain', fields: { city: 'Berlin' } });
 *   // => '3f1c…' (64 hex chars), the same whatever the key order of `fields`
 */
export function computeTriggerIdentity(input: TriggerIdentityInput): string {
  const identity: object = {
    user_id: input.userId,
    service: input.serviceSlug,
    trigger: input.triggerSlug,
    fields: input.fields,
  };
  const canonical = canonicalJson(identity);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
