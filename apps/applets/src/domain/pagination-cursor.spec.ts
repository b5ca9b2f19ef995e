import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './pagination-cursor';

describe('pagination cursor', () => {
  it('round-trips a position', () => {
    expect(decodeCursor(encodeCursor({ beforeId: '120' }))).toEqual({ beforeId: '120' });
  });

  it.each([
    ['garbage', 'not a cursor!'],
    ['json without position', Buffer.from('{"x":1}').toString('base64url')],
    ['non-numeric id', Buffer.from('{"b":"1 or 1=1"}').toString('base64url')],
    ['numeric type', Buffer.from('{"b":5}').toString('base64url')],
    ['null', Buffer.from('null').toString('base64url')],
  ])('rejects %s', (_case, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});
