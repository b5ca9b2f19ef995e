/**
 * Why a `fetch` failed, in one line: undici wraps the socket error (`ECONNREFUSED`, `bad port`, a TLS
 * failure) as the `cause` of a generic "fetch failed", so the cause's message is the useful one.
 *
 * @example
 *   try { await fetch(url); } catch (error) { throw new Error(`partner could not be reached: ${fetchFailureReason(error)}`); }
 *   // 'partner could not be reached: connect ECONNREFUSED 127.0.0.1:59999'
 */
export function fetchFailureReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}
