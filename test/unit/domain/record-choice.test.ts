import { describe, expect, it } from 'vitest';
import { chooseRecord } from '../../../shared/domain/record-choice.js';

const lead = (id: string, createdDate: string) => ({ id, sobject: 'Lead' as const, createdDate });

describe('chooseRecord', () => {
  const records = [
    lead('00Q000000000002', '2026-01-02T00:00:00.000Z'),
    lead('00Q000000000001', '2026-03-01T00:00:00.000Z'),
    lead('00Q000000000003', '2026-03-01T00:00:00.000Z'),
    lead('00Q000000000004', '2026-01-02T00:00:00.000Z'),
  ];

  it('picks the most recently created record, ties to the highest Id', () => {
    expect(chooseRecord(records, 'mostRecentlyCreated')?.id).toBe('00Q000000000003');
  });

  it('picks the oldest record with "oldest", ties to the lowest Id', () => {
    expect(chooseRecord(records, 'oldest')?.id).toBe('00Q000000000002');
  });

  it('has no choice without candidates', () => {
    expect(chooseRecord([], 'oldest')).toBeUndefined();
  });
});
