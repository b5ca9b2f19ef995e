/**
 * A stored job: one string, written once at enqueue and never rewritten. A header line the Lua scripts read
 * with `string.match` (they never decode the payload: a payload Redis's cjson cannot parse once lost whole
 * batches), then the payload JSON:
 *
 *   J1<u|-> <priority> <maxAttempts> <dueAt> <enqueuedAt> <name> <uniqueKey>\n<payload JSON>
 *
 * `u` when there is a unique key, `-` when not (then the key is empty); `dueAt` and `enqueuedAt` are producer
 * wall-clock ms. Names match `[A-Za-z0-9._:-]+`; a unique key holds no newline; JSON.stringify never writes one.
 */
export interface JobRecord {
  /** Job name. */
  n: string;
  /** Priority, -1,000 to 1,000, lower first. */
  p: number;
  /** Max attempts. */
  m: number;
  /** Enqueued at, producer wall clock ms. */
  t: number;
  /** Due at (enqueued at + delay), producer wall clock ms; the start of the wait-time metric. */
  r: number;
  /** Payload as given to enqueue (validated). */
  d: unknown;
  /** Set when the record could not be read: why (the job is dead-lettered with it). */
  unreadable?: string;
}

/**
 * The header line of a record, newline included; the payload JSON follows it.
 *
 * @example
 * recordHeader('send-mail', 0, 10, now, now, '') + JSON.stringify(payload);
 */
export function recordHeader(
  name: string,
  priority: number,
  maxAttempts: number,
  dueAt: number,
  enqueuedAt: number,
  uniqueKey: string,
): string {
  return `J1${uniqueKey === '' ? '-' : 'u'} ${priority} ${maxAttempts} ${dueAt} ${enqueuedAt} ${name} ${uniqueKey}\n`;
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

/**
 * A stored record. One that cannot be read (written by hand, or by another version) gets a placeholder with
 * `unreadable` set, which the worker dead-letters with that reason; it never throws.
 */
export function parseRecord(raw: string): JobRecord {
  const end = raw.indexOf('\n');
  if (end < 0) return unreadable(raw, 'unreadable record: not a job this queue wrote');
  // Jobs enqueued together share their header: read it once (this runs once per job on the worker's hot path).
  const head = raw.slice(0, end);
  let fields = lastHeader.head === head ? lastHeader.fields : null;
  if (!fields) {
    const parsed = parseHeader(head);
    if (typeof parsed === 'string') return unreadable(raw, parsed);
    fields = parsed;
    lastHeader = { head, fields };
  }
  try {
    return {
      n: fields.n,
      p: fields.p,
      m: fields.m,
      r: fields.r,
      t: fields.t,
      d: JSON.parse(raw.slice(end + 1)) as unknown,
    };
  } catch (error) {
    return unreadable(raw, `unreadable payload: ${errorText(error)}`);
  }
}

type HeaderFields = Omit<JobRecord, 'd' | 'unreadable'>;
let lastHeader: { head: string; fields: HeaderFields | null } = { head: '', fields: null };

/** The fields of a header line, or why it cannot be read. */
function parseHeader(head: string): HeaderFields | string {
  const flag = head.charCodeAt(2);
  if (!head.startsWith('J1') || (flag !== 45 && flag !== 117) || head.charCodeAt(3) !== 32) {
    return 'unreadable record: not a job this queue wrote';
  }
  const parts = head.slice(4).split(' ', 5);
  if (parts.length < 5) return 'unreadable record: incomplete header';
  const [p, m, r, t] = parts.slice(0, 4).map(Number);
  const n = parts[4];
  if (
    !Number.isInteger(p) ||
    p < -1000 ||
    p > 1000 ||
    !Number.isInteger(m) ||
    m < 1 ||
    !Number.isFinite(r + t) ||
    n === ''
  ) {
    return 'unreadable record: invalid header';
  }
  return { n, p, m, r, t };
}

function unreadable(raw: string, why: string): JobRecord {
  return { n: '(unreadable record)', p: 0, m: 1, t: 0, r: 0, d: raw, unreadable: why };
}

/** The attempt history of a job as stored; an unreadable one becomes one entry that says so. */
export function parseHistory(raw: string | null): AttemptFailure[] {
  if (!raw) return [];
  try {
    const value = JSON.parse(raw) as unknown;
    if (Array.isArray(value)) return value as AttemptFailure[];
  } catch {
    // fall through
  }
  return [{ attempt: 0, at: 0, error: `unreadable attempt history: ${raw.slice(0, 200)}` }];
}
