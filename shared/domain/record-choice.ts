/** A Salesforce Lead or Contact that may stand for a person (matched by email). */
export interface CandidateRecord {
  id: string;
  sobject: 'Lead' | 'Contact';
  createdDate: string;
}

export type MultipleRecordsRule = 'mostRecentlyCreated' | 'oldest';

/**
 * Seed 002's rule for a person with several Salesforce records: the most recently created one,
 * ties (same CreatedDate) to the highest Id; or, with `oldest`, the first created, ties to the
 * lowest Id. Undefined when there is no candidate.
 */
export function chooseRecord(
  candidates: readonly CandidateRecord[],
  rule: MultipleRecordsRule,
): CandidateRecord | undefined {
  const sign = rule === 'mostRecentlyCreated' ? 1 : -1;
  let best: CandidateRecord | undefined;
  for (const c of candidates) {
    if (!best) {
      best = c;
      continue;
    }
    const byDate = Date.parse(c.createdDate) - Date.parse(best.createdDate);
    const byId = c.id < best.id ? -1 : c.id > best.id ? 1 : 0;
    if (sign * byDate > 0 || (byDate === 0 && sign * byId > 0)) best = c;
  }
  return best;
}
