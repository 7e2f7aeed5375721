/** Salesforce-shaped record ids: 3-character key prefix, 15-character id, 3-character case checksum. */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CHECKSUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The documented 15 → 18 character suffix: one character per 5-character chunk, from its upper-case letters. */
export function checksumSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15[chunk * 5 + i] ?? '';
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += CHECKSUM[bits];
  }
  return suffix;
}

export const KEY_PREFIX = {
  Lead: '00Q',
  Contact: '003',
  Task: '00T',
  /** Event key prefix (Salesforce: Standard Field Record ID Prefix Decoder). */
  Event: '00U',
  Campaign: '701',
  CampaignMember: '00v',
  CampaignMemberStatus: '01Y',
  User: '005',
  Account: '001',
  Organization: '00D',
  BulkJob: '750',
  QueryLocator: '01g',
  /** Field history rows (LeadHistory, ContactHistory …): Standard Field Record ID Prefix Decoder. */
  FieldHistory: '017',
} as const;

/** Sequential ids per prefix, unique within one sandbox. */
export class IdFactory {
  private readonly counters = new Map<string, number>();
  /** Ids restored from an earlier process: never handed out again. */
  private readonly taken = new Set<string>();
  constructor(private readonly pod = 'SB') {}

  observe(id: string): void {
    this.taken.add(id);
  }

  next(prefix: string): string {
    for (;;) {
      const id = this.generate(prefix);
      if (!this.taken.has(id)) return id;
    }
  }

  private generate(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    let body = '';
    let rest = n;
    for (let i = 0; i < 8; i++) {
      body = BASE62[rest % 62] + body;
      rest = Math.floor(rest / 62);
    }
    const id15 = `${prefix}${this.pod.slice(0, 2).padEnd(2, '0')}${'0'.repeat(2)}${body}`.slice(0, 15);
    return id15 + checksumSuffix(id15);
  }
}
