import { describe, expect, it } from 'vitest';
import { encodeCursor } from './pagination-cursor';
import { decodeActivityCursor, encodeActivityCursor } from './activity-cursor';

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('activity cursor', () => {
  it('round-trips a position', () => {
    const position = { finishedAt: new Date('2026-11-30T09:00:01.084Z'), runId: 'run-7' };
    expect(decodeActivityCursor(encodeActivityCursor(position))).toEqual(position);
  });

  it.each([
    ['garbage', 'not a cursor!'],
    ["an applets list's cursor", encodeCursor({ beforeId: '12' })],
    ['a time as text', encode({ f: '2026-11-30', r: 'r1' })],
    ['a time out of range', encode({ f: 9e15, r: 'r1' })],
    ['a fractional time', encode({ f: 1.5, r: 'r1' })],
    ['an empty run id', encode({ f: 0, r: '' })],
    ['a run id with NUL', encode({ f: 0, r: 'r\u0000' })],
    ['a run id too long', encode({ f: 0, r: 'r'.repeat(101) })],
    ['null', encode(null)],
  ])('rejects %s', (_case, cursor) => {
    expect(decodeActivityCursor(cursor)).toBeUndefined();
  });
});
