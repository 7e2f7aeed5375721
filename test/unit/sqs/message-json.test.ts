import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalSqs, startLocalSqs } from '../../../cli/embedded/local-sqs.js';
import { SqsMessageSender } from '../../../shared/adapters/sqs/sqs-message-sender.js';
import { jsonByteLength, toMessageJson } from '../../../shared/ports/pack-into-messages.js';

/** What SQS accepts in a body; fauxqs additionally refuses surrogates, so neither may appear. */
const SQS_VALID = /^[\t\n\r\x20-\uD7FF\uE000-\uFFFD]*$/;

describe('toMessageJson', () => {
  it('always yields a body SQS accepts that parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
        for (const v of [value, { text }]) {
          const json = toMessageJson(v);
          expect(json).toMatch(SQS_VALID);
          expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(v)));
          expect(jsonByteLength(v)).toBe(Buffer.byteLength(json));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('escapes only what SQS refuses: ASCII and most non-ASCII text stays as it is', () => {
    expect(toMessageJson({ email: 'müller@example.com' })).toBe('{"email":"müller@example.com"}');
    expect(toMessageJson({ reason: '😀\uFFFF' })).toBe('{"reason":"\\ud83d\\ude00\\uffff"}');
  });
});

describe('SqsMessageSender with text SQS refuses raw (fauxqs)', () => {
  let sqs: LocalSqs;
  beforeAll(async () => {
    sqs = await startLocalSqs();
  });
  afterAll(async () => {
    await sqs.stop();
  });

  it('sends an email with an emoji and a reason with U+FFFF, and they arrive unchanged', async () => {
    const body = { email: '😀@😀.com', reason: 'a\uFFFEb\uFFFF', leadId: 1 };
    await new SqsMessageSender({ client: sqs.client }).send(sqs.queueUrls.unsubscribe, [body]);
    const res = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrls.unsubscribe }));
    expect(res.Messages?.map((m) => JSON.parse(m.Body ?? ''))).toEqual([body]);
  });
});
