import { soql } from '../domain/soql.js';
import type { ActivityDeps } from './activity-deps.js';

/** The org's time zone, read once per Salesforce client (per process): it changes rarely. */
const ORG_ZONES = new WeakMap<object, Promise<string>>();

export class UnknownTimeZoneError extends Error {
  override readonly name = 'UnknownTimeZoneError';
  constructor(zone: string) {
    super(
      `The Salesforce org's time zone "${zone}" (Organization.TimeZoneSidKey) is not one this runtime knows; set salesforce.timeZone to an IANA zone such as America/Los_Angeles.`,
    );
  }
}

/**
 * The zone a Task's ActivityDate is the calendar day in: `salesforce.timeZone` when set, else the
 * org's default (Organization.TimeZoneSidKey, a tz-database id), so a Task dated by a user in the
 * org and ours agree on the day.
 */
export async function taskTimeZone(deps: Pick<ActivityDeps, 'settings' | 'salesforce'>): Promise<string> {
  const configured = deps.settings.salesforce.timeZone;
  if (configured) return configured;
  let zone = ORG_ZONES.get(deps.salesforce);
  if (!zone) {
    zone = deps.salesforce
      .query<{ TimeZoneSidKey: string | null }>(soql`SELECT TimeZoneSidKey FROM Organization LIMIT 1`)
      .then((rows) => {
        const key = rows[0]?.TimeZoneSidKey ?? 'UTC';
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: key });
        } catch (cause) {
          throw Object.assign(new UnknownTimeZoneError(key), { cause });
        }
        return key;
      });
    zone.catch(() => ORG_ZONES.delete(deps.salesforce));
    ORG_ZONES.set(deps.salesforce, zone);
  }
  return zone;
}
