import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  advances,
  type EmailEvent,
  foldMemberships,
  lastFiveStatuses,
  MEMBER_STATUSES,
  type MemberStatus,
  programOf,
} from '../../../shared/domain/campaign-status.js';

const statusArb = fc.constantFrom(...MEMBER_STATUSES);
const eventArb: fc.Arbitrary<EmailEvent> = fc.record({
  personKey: fc.constantFrom('p1', 'p2', 'p3'),
  campaign: fc.constantFrom('Newsletter Q3', 'Webinar 2.0'),
  status: statusArb,
  at: fc
    .integer({ min: Date.parse('2026-09-01T00:00:00Z'), max: Date.parse('2026-12-01T00:00:00Z') })
    .map((ms) => new Date(ms).toISOString()),
});

describe('campaign member status', () => {
  it('converges to the same memberships whatever order the events arrive in, in one read or several', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 40 }), fc.integer({ min: 0, max: 40 }), (events, cut) => {
        const inOrder = foldMemberships(new Map(), events);
        const reversed = foldMemberships(new Map(), [...events].reverse());
        const inTwoRuns = foldMemberships(
          foldMemberships(new Map(), events.slice(cut)),
          events.slice(0, cut),
        );
        expect(reversed).toEqual(inOrder);
        expect(inTwoRuns).toEqual(inOrder);
      }),
    );
  });

  it('is the furthest step reached and never goes backwards', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 30 }), (events) => {
        const result = foldMemberships(new Map(), events);
        for (const m of result.values()) {
          const mine = events.filter((e) => e.personKey === m.personKey && e.campaign === m.campaign);
          const best = Math.max(...mine.map((e) => MEMBER_STATUSES.indexOf(e.status)));
          expect(m.status).toBe(MEMBER_STATUSES[best]);
          expect(m.at).toBe(
            mine
              .filter((e) => e.status === m.status)
              .map((e) => e.at)
              .sort()[0],
          );
        }
      }),
    );
  });

  it('treats Bounced and Unsubscribed as terminal', () => {
    const nextOf = (s: MemberStatus) => MEMBER_STATUSES.filter((n) => advances(s, n));
    expect(nextOf('Bounced')).toEqual(['Unsubscribed']);
    expect(nextOf('Unsubscribed')).toEqual([]);
    expect(nextOf('Opened')).toEqual(['Clicked', 'Bounced', 'Unsubscribed']);
    expect(advances('Clicked', 'Opened')).toBe(false);
  });

  it('takes the program from a Program.Email asset name', () => {
    expect(programOf('Newsletter Q3.Newsletter Email')).toBe('Newsletter Q3');
    expect(programOf('Webinar 2.0.Invite')).toBe('Webinar 2.0');
    expect(programOf('No program')).toBeUndefined();
  });
});

describe('lastFiveStatuses', () => {
  it('lists the five most recent statuses, newest first, one per line', () => {
    const text = lastFiveStatuses([
      { campaign: 'A', status: 'Sent', at: '2026-11-01T10:00:00.000Z' },
      { campaign: 'B', status: 'Opened', at: '2026-12-01T09:00:00.000Z' },
      { campaign: 'C', status: 'Clicked', at: '2026-11-20T00:00:00.000Z' },
      { campaign: 'D', status: 'Bounced', at: '2026-10-01T00:00:00.000Z' },
      { campaign: 'E', status: 'Delivered', at: '2026-11-15T00:00:00.000Z' },
      { campaign: 'F', status: 'Unsubscribed', at: '2026-11-18T00:00:00.000Z' },
    ]);
    expect(text).toBe(
      [
        '2026-12-01 Opened — B',
        '2026-11-20 Clicked — C',
        '2026-11-18 Unsubscribed — F',
        '2026-11-15 Delivered — E',
        '2026-11-01 Sent — A',
      ].join('\n'),
    );
  });
});
