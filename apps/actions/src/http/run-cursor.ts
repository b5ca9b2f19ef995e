/** A positive bigint identity as decimal text (what `seq` is read as). */
const SEQ = /^[1-9][0-9]{0,18}$/;

/**
 * Encodes the position after which the next page of runs starts as an opaque cursor (base64url JSON), so
 * clients cannot depend on its shape.
 *
 * @example
 *   encodeRunCursor('120'); // 'eyJzIjoiMTIwIn0'
 */
export function encodeRunCursor(beforeSeq: string): string {
  return Buffer.from(JSON.stringify({ s: beforeSeq }), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeRunCursor}; undefined for anything else (tampered, truncated,
 * foreign), which the API answers as a 400 on `cursor`.
 *
 * @example
 *   decodeRunCursor('eyJzIjoiMTIwIn0'); // '120'
 */
export function decodeRunCursor(cursor: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || !('s' in parsed)) return undefined;
    const seq = parsed.s;
    return typeof seq === 'string' && SEQ.test(seq) && BigInt(seq) <= 9_223_372_036_854_775_807n
      ? seq
      : undefined;
  } catch {
    return undefined;
  }
}
