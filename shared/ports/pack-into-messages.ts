import { MessageTooLargeError } from './message-errors.js';

/** Default budget per message: under SQS's 256 KiB, leaving room for attributes. */
export const DEFAULT_PACK_BYTES = 240_000;

const encoder = new TextEncoder();

/**
 * Characters SQS refuses in a message body (it allows #x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD and
 * #x10000+): U+FFFE/U+FFFF, and surrogates (which some emulators refuse even when paired). Inside a
 * JSON string they can always be written as \uXXXX escapes, which parse back to the same value.
 */
const SQS_UNSAFE = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD]/g;

/**
 * The message body for `value`: JSON that SQS accepts whatever text the value holds (an email with
 * an emoji, an activity attribute with U+FFFF), so valid input can never become an unsendable
 * message. Outside strings JSON is ASCII, so only string contents are escaped.
 */
export function toMessageJson(value: unknown): string {
  const json = JSON.stringify(value);
  // JSON.stringify(undefined) is undefined; SQS would then receive no body at all.
  if (json === undefined) throw new TypeError('Message body serialises to nothing (undefined or a function)');
  return json.replace(SQS_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Bytes of `value` as a message body (toMessageJson), in UTF-8 (what SQS counts). */
export function jsonByteLength(value: unknown): number {
  return encoder.encode(toMessageJson(value)).byteLength;
}

/**
 * Packs items into as few messages as fit: each message is `wrap(chunk)` with the longest run of
 * consecutive items whose serialised JSON stays ≤ `maxBytes` (order preserved, greedy).
 *
 * Measured exactly on `wrap(chunk)`, so whatever envelope `wrap` adds is counted. Chunk lengths are
 * found by galloping then bisecting (O(log n) serialisations per message, not one per item); this
 * assumes a longer chunk never serialises smaller, which holds for any envelope that contains it.
 *
 * @throws MessageTooLargeError naming the first item that does not fit even alone.
 */
export function packIntoMessages<T, M = unknown>(
  items: readonly T[],
  wrap: (chunk: T[]) => M,
  maxBytes = DEFAULT_PACK_BYTES,
): M[] {
  const messages: M[] = [];
  const fits = (start: number, count: number): M | undefined => {
    const message = wrap(items.slice(start, start + count));
    return jsonByteLength(message) <= maxBytes ? message : undefined;
  };

  let start = 0;
  while (start < items.length) {
    const remaining = items.length - start;
    let best = fits(start, 1);
    if (best === undefined) {
      throw new MessageTooLargeError(
        start,
        jsonByteLength(wrap(items.slice(start, start + 1))),
        maxBytes,
        'item',
      );
    }
    // Gallop: largest power of two that fits (lo) and the first that does not (hi).
    let lo = 1;
    let hi = remaining + 1;
    for (let n = 2; n <= remaining; n *= 2) {
      const message = fits(start, n);
      if (message === undefined) {
        hi = n;
        break;
      }
      lo = n;
      best = message;
    }
    if (hi === remaining + 1 && lo < remaining) {
      const message = fits(start, remaining);
      if (message === undefined) hi = remaining;
      else {
        lo = remaining;
        best = message;
      }
    }
    // Bisect in (lo, hi): lo fits, hi does not.
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const message = fits(start, mid);
      if (message === undefined) hi = mid;
      else {
        lo = mid;
        best = message;
      }
    }
    messages.push(best);
    start += lo;
  }
  return messages;
}
