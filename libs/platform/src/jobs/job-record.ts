/**
 * What a job hash field holds: written once at enqueue, read by workers and by the Lua scripts (which read
 * `n`, `p`, `m`, `u` and never re-encode it, so payload numbers keep their exact JSON text).
 */
export interface JobRecord {
  /** Job name. */
  n: string;
  /** Priority, -1,000 to 1,000, lower first. */
  p: number;
  /** Max attempts. */
  m: number;
  /** Unique key, while the job waits. */
  u?: string;
  /** Enqueued at, producer wall clock ms. */
  t: number;
  /** Due at (enqueued at + delay), producer wall clock ms; the start of the wait-time metric. */
  r: number;
  /** Payload as given to enqueue (validated). */
  d: unknown;
}

/** One failed attempt, as kept in the attempt history of a job. */
export interface AttemptFailure {
  attempt: number;
  /** Redis server time, ms. */
  at: number;
  error: string;
}

/** Longest error text kept per attempt, so one huge stack cannot bloat Redis. */
export const MAX_ERROR_LENGTH = 2000;

/** Short text of a thrown value for the attempt history. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

/** A stored record; an unreadable one (written by hand?) gets a placeholder that fails once and is dead-lettered. */
export function parseRecord(raw: string): JobRecord {
  try {
    return JSON.parse(raw) as JobRecord;
  } catch {
    return { n: '(unreadable record)', p: 0, m: 1, t: 0, r: 0, d: raw };
  }
}
