import { isWellFormedText } from '@ittd/platform';

/** Where the next page of activity starts: after the entry with this `finished_at` and `run_id`. */
export interface ActivityCursorPosition {
  finishedAt: Date;
  runId: string;
}

/** Longest `run_id` (as `action-run.finished` allows). */
const MAX_RUN_ID_LENGTH = 100;

/**
 * Encodes the last entry of an activity page as an opaque cursor (base64url JSON of its `finished_at` in
 * epoch ms and its `run_id`), so clients cannot depend on its shape.
 *
 * @example
 *   encodeActivityCursor({ finishedAt: new Date(0), runId: 'r1' }); // 'eyJmIjowLCJyIjoicjEifQ'
 */
export function encodeActivityCursor(position: ActivityCursorPosition): string {
  const json = JSON.stringify({ f: position.finishedAt.getTime(), r: position.runId });
  return Buffer.from(json, 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by `encodeActivityCursor`; `undefined` for anything else (tampered, truncated, an
 * applets-list cursor), which the API reports as a 400 on `cursor`.
 *
 * @example
 *   decodeActivityCursor('eyJmIjowLCJyIjoicjEifQ'); // { finishedAt: new Date(0), runId: 'r1' }
 */
export function decodeActivityCursor(cursor: string): ActivityCursorPosition | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || !('f' in parsed) || !('r' in parsed))
      return undefined;
    const { f, r } = parsed;
    if (typeof f !== 'number' || !Number.isSafeInteger(f) || typeof r !== 'string') return undefined;
    if (r.length === 0 || r.length > MAX_RUN_ID_LENGTH || !isWellFormedText(r)) return undefined;
    const finishedAt = new Date(f);
    return Number.isNaN(finishedAt.getTime()) ? undefined : { finishedAt, runId: r };
  } catch {
    return undefined;
  }
}
