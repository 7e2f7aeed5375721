import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageTooLargeError } from '../../../shared/ports/message-errors.js';
import { jsonByteLength, packIntoMessages } from '../../../shared/ports/pack-into-messages.js';

interface Envelope {
  kind: 'writeTasks';
  items: string[];
}
const wrap = (chunk: string[]): Envelope => ({ kind: 'writeTasks', items: chunk });

describe('packIntoMessages', () => {
  it('keeps order, never exceeds the limit, and fills each message greedily', () => {
    fc.assert(
      fc.property(
        // Multi-byte characters so UTF-8 bytes differ from string length.
        fc.array(fc.string({ unit: 'grapheme', maxLength: 60 }), { maxLength: 80 }),
        fc.integer({ min: 400, max: 2_000 }),
        (items, maxBytes) => {
          // Prepare: only cases where every item fits alone (the error case is tested below).
          fc.pre(items.every((item) => jsonByteLength(wrap([item])) <= maxBytes));
          const messages = packIntoMessages(items, wrap, maxBytes) as Envelope[];

          // Assess: concatenation is the input, in order.
          expect(messages.flatMap((m) => m.items)).toEqual(items);
          for (const [i, m] of messages.entries()) {
            expect(m.items.length).toBeGreaterThan(0);
            expect(jsonByteLength(m)).toBeLessThanOrEqual(maxBytes);
            // Greedy: the next item would not have fitted into this message.
            const next = messages[i + 1]?.items[0];
            if (next !== undefined) {
              expect(jsonByteLength(wrap([...m.items, next]))).toBeGreaterThan(maxBytes);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('measures UTF-8 bytes, not characters', () => {
    // 'é' is 1 character but 2 bytes: the item serialises to 22 bytes, both as an array to 47
    // bytes (25 characters). A 46-byte limit therefore forces two messages.
    const item = 'é'.repeat(10);

    const messages = packIntoMessages([item, item], (c) => c, 46);

    expect(messages).toEqual([[item], [item]]);
  });

  it('returns no messages for no items', () => {
    expect(packIntoMessages([], wrap)).toEqual([]);
  });

  it('names the item that does not fit even alone', () => {
    const items = ['a', 'x'.repeat(500), 'b'];

    const act = () => packIntoMessages(items, wrap, 300);

    expect(act).toThrow(MessageTooLargeError);
    expect(act).toThrow(/item at index 1 is 53\d bytes .* over the 300-byte limit/);
  });

  it('uses a 240,000-byte default budget', () => {
    const items = Array.from({ length: 5 }, (_, i) => `${i}`.padEnd(100_000, 'x'));

    const messages = packIntoMessages(items, wrap) as Envelope[];

    expect(messages.map((m) => m.items.length)).toEqual([2, 2, 1]);
  });
});
