import { mulberry32 } from '../world.js';
import { KEY_PREFIX } from './salesforce-ids.js';
import { type SandboxStore, sfDateTime } from './sandbox-store.js';

/**
 * Sales activity logged by reps (job 4's source) for the embedded default: closed and open
 * Tasks (calls, emails, other) and past and future Events on the org's Leads and Contacts.
 * Field names and values follow the Salesforce Object Reference (Task: Status, IsClosed,
 * TaskSubtype Call | Email | Task, Type, ActivityDate, CompletedDateTime; Event: StartDateTime,
 * EndDateTime, DurationInMinutes).
 */
export interface SalesActivitySeedOptions {
  /** Epoch ms the org's clock reads now. */
  now: number;
  tasks?: number;
  events?: number;
  days?: number;
  seed?: number;
}

export function seedSalesActivity(
  store: SandboxStore,
  options: SalesActivitySeedOptions,
): { tasks: number; events: number } {
  const rand = mulberry32(options.seed ?? 4_004);
  const people = [...store.leads.keys(), ...store.contacts.keys()];
  const owner = [...store.users.keys()][0] ?? null;
  if (people.length === 0) return { tasks: 0, events: 0 };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const days = options.days ?? 60;
  const at = (ms: number) => sfDateTime(new Date(ms));
  const taskCount = options.tasks ?? 400;
  for (let i = 0; i < taskCount; i++) {
    const occurred = options.now - Math.floor(rand() * days * 86_400_000) - 60_000;
    const subtype = pick(['Call', 'Email', 'Task'] as const);
    const closed = rand() < 0.8;
    const id = store.ids.next(KEY_PREFIX.Task);
    store.tasks.set(id, {
      Id: id,
      // One in forty is logged on no person (e.g. an account-level note).
      WhoId: rand() < 0.025 ? null : pick(people),
      OwnerId: owner,
      Subject:
        subtype === 'Call'
          ? `Call ${i + 1}`
          : subtype === 'Email'
            ? `Email: follow-up ${i + 1}`
            : `To do ${i + 1}`,
      Status: closed ? 'Completed' : 'Not Started',
      IsClosed: closed,
      Priority: 'Normal',
      TaskSubtype: subtype,
      Type: subtype === 'Task' ? 'Other' : subtype,
      ActivityDate: at(occurred).slice(0, 10),
      CompletedDateTime: closed ? at(occurred) : null,
      Description: `Logged by the rep after the ${subtype.toLowerCase()}.`,
      CreatedDate: at(occurred),
      LastModifiedDate: at(occurred),
      SystemModstamp: at(occurred),
      IsDeleted: false,
    });
  }
  const eventCount = options.events ?? 100;
  for (let i = 0; i < eventCount; i++) {
    // A fifth lie in the next two weeks: not eligible until they end.
    const start = options.now + (rand() < 0.2 ? 1 : -1) * Math.floor(rand() * 14 * 86_400_000) - 3_600_000;
    const created = Math.min(start, options.now) - 86_400_000;
    const id = store.ids.next(KEY_PREFIX.Event);
    store.events.set(id, {
      Id: id,
      WhoId: pick(people),
      OwnerId: owner,
      Subject: `Meeting ${i + 1}`,
      StartDateTime: at(start),
      EndDateTime: at(start + 30 * 60_000),
      DurationInMinutes: 30,
      Description: 'Discovery meeting.',
      CreatedDate: at(created),
      LastModifiedDate: at(created),
      SystemModstamp: at(created),
      IsDeleted: false,
    });
  }
  return { tasks: taskCount, events: eventCount };
}
