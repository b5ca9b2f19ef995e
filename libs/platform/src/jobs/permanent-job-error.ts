/**
 * Thrown by a job handler when retrying cannot help: the job goes straight to the dead-letter set instead of
 * burning its remaining attempts with backoff (up to 10 attempts over about 17 minutes by default). Use it when
 * the failure can only end by someone changing data or configuration: a partner answering 401 because our
 * service key was revoked, or a payload naming a row that no longer makes sense. Anything that might pass on
 * a later try (time-outs, 5xx, a lock) should stay a plain error, so the queue retries it.
 *
 * The attempt still counts, and the dead job keeps its payload and attempt history (this error's text is the
 * last entry), so it can be listed, retried once fixed (`retryDead`) or purged like any dead job. Metrics and
 * events are those of a dead job: `jobs_failed_total` and `jobs_dead_total`, a `failed` event with
 * `retryInMs: null`, then a `dead` event. Subclasses work too (the check is `instanceof`); pass the original
 * error as `cause` to keep it for logs.
 *
 * @example
 * defineJob('sync-contact', z.object({ contactId: z.string() }), async ({ contactId }) => {
 *   const response = await crm.push(contactId);
 *   if (response.status === 401) throw new PermanentJobError('CRM rejected our API key; update CRM_API_KEY');
 *   if (!response.ok) throw new Error(`CRM answered HTTP ${response.status}`); // retried with backoff
 * });
 */
export class PermanentJobError extends Error {
  override readonly name: string = 'PermanentJobError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
