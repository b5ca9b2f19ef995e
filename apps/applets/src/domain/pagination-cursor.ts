import { isDatabaseId } from './database-id';

/**
 * Encodes the position after which the next page starts as an opaque cursor (base64url JSON), so clients
 * cannot depend on its shape and the keyset can change later.
 *
 * @example
 *   encodeCursor({ beforeId: '120' }); // 'eyJiIjoiMTIwIn0'
 */
export function encodeCursor(position: { beforeId: string }): string {
  return Buffer.from(JSON.stringify({ b: position.beforeId }), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by `encodeCursor`; `undefined` for anything else (tampered, truncated, foreign),
 * which the API reports as a 400 on `cursor`.
 *
 * @example
 *   decodeCursor('eyJiIjoiMTIwIn0'); // { beforeId: '120' }
 */
export function decodeCursor(cursor: string): { beforeId: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || !('b' in parsed)) return undefined;
    const beforeId = parsed.b;
    return typeof beforeId === 'string' && isDatabaseId(beforeId) ? { beforeId } : undefined;
  } catch {
    return undefined;
  }
}
