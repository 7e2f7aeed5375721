import type * as z from 'zod';
import { STANDARD_ACTIVITY_TYPES, standardTypeByName } from '../domain/standard-activity-types.js';
import type { ActivityTypeSettingInput } from './settings.js';

/**
 * `activities.types`: the default list, and how an entry inherits the default type of its name.
 * Settings-only (no I/O); the schema in settings.ts runs `inheritTypeDefaults` before validating.
 */

const DESCRIPTION = 'Marketo activity {activityTypeName} on {activityDate}\n{attributes}';

/** Seed 000's table: the types Marketo's own connector pushes to Activity History. */
export const DEFAULT_ACTIVITY_TYPES: readonly ActivityTypeSettingInput[] = (
  [
    {
      name: 'Fill Out Form',
      id: 2,
      subjectTemplate: 'Submitted: {primaryAttributeValue}',
      taskType: 'Other',
    },
    {
      name: 'Send Email',
      id: 6,
      subjectTemplate: 'Was Sent Email: {primaryAttributeValue}',
      taskType: 'Email',
      taskSubtype: 'Email',
    },
    {
      name: 'Email Delivered',
      id: 7,
      subjectTemplate: 'Email Delivered: {primaryAttributeValue}',
      taskType: 'Email',
      taskSubtype: 'Email',
    },
    {
      name: 'Open Email',
      id: 10,
      subjectTemplate: 'Opened Email: {primaryAttributeValue}',
      taskType: 'Email',
      taskSubtype: 'Email',
    },
    {
      name: 'Click Email',
      id: 11,
      subjectTemplate: 'Clicked Link in Email: {primaryAttributeValue}',
      taskType: 'Email',
      taskSubtype: 'Email',
    },
    {
      name: 'Add to List',
      id: 24,
      subjectTemplate: 'Added to List: {primaryAttributeValue}',
      taskType: 'Other',
    },
    {
      name: 'Remove from List',
      id: 25,
      subjectTemplate: 'Removed from List: {primaryAttributeValue}',
      taskType: 'Other',
    },
    {
      name: 'Remove from Flow',
      subjectTemplate: 'Removed from Flow: {primaryAttributeValue}',
      taskType: 'Other',
      optional: true,
    },
    {
      name: 'Send Sales Email',
      subjectTemplate: 'Sales Email Sent: {primaryAttributeValue}',
      taskType: 'Email',
      taskSubtype: 'Email',
      optional: true,
    },
    {
      name: 'Open Sales Email',
      subjectTemplate: 'Sales Email Opened: {primaryAttributeValue}',
      taskType: 'Email',
      taskSubtype: 'Email',
      optional: true,
    },
    {
      name: 'Click Sales Email',
      subjectTemplate: 'Sales Email Clicked: {primaryAttributeValue}',
      taskType: 'Email',
      taskSubtype: 'Email',
      optional: true,
    },
    {
      // A standard type on every instance: id 45, "Receive Sales Email" (shared/API-NOTES.md).
      name: 'Receive Sales Email',
      id: 45,
      subjectTemplate: 'Sales Email Received: {primaryAttributeValue}',
      taskType: 'Email',
      taskSubtype: 'Email',
    },
  ] satisfies ActivityTypeSettingInput[]
).map((t) => ({ ...t, fieldMapping: { Description: DESCRIPTION } }));

const DEFAULT_BY_NAME = new Map(DEFAULT_ACTIVITY_TYPES.map((t) => [t.name.toLowerCase(), t]));

/** Names a type entry may carry without an id pin: the default types and Marketo's standard types. */
const KNOWN_NAMES = [
  ...new Map(
    [...DEFAULT_ACTIVITY_TYPES, ...STANDARD_ACTIVITY_TYPES].map((t) => [t.name.toLowerCase(), t.name]),
  ).values(),
];

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Each entry named like a default type (case-insensitive) is that default type with the entry's
 * keys over it (`fieldMapping` merged per field). A name that is neither a default nor a standard
 * type, has no id pin and is a typo away from a known name is refused, naming the closest; other
 * names are custom types, resolved by name at run time.
 */
export function inheritTypeDefaults(value: unknown, ctx: z.RefinementCtx): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((entry: unknown, i) => {
    if (!isRecord(entry) || typeof entry.name !== 'string') return entry;
    const base = DEFAULT_BY_NAME.get(entry.name.toLowerCase());
    if (base) {
      const fieldMapping = isRecord(entry.fieldMapping)
        ? { ...base.fieldMapping, ...entry.fieldMapping }
        : (entry.fieldMapping ?? base.fieldMapping);
      return { ...base, ...entry, fieldMapping };
    }
    if (standardTypeByName(entry.name) || entry.id !== undefined) return entry;
    const closest = closestKnownName(entry.name);
    if (closest && closest.distance <= typoDistance(entry.name)) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'name'],
        input: entry.name,
        message: `unknown activity type "${entry.name}"; did you mean "${closest.name}"? (a custom type of that very name: pin its id)`,
      });
    }
    return entry;
  });
}

/** Edits within which an unknown name counts as a misspelling: one per five characters, at least one. */
function typoDistance(name: string): number {
  return Math.max(1, Math.floor(name.length / 5));
}

/** The known type name nearest to `name` (Levenshtein, case-insensitive). */
export function closestKnownName(name: string): { name: string; distance: number } | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const known of KNOWN_NAMES) {
    const distance = levenshtein(name.toLowerCase(), known.toLowerCase());
    if (!best || distance < best.distance) best = { name: known, distance };
  }
  return best;
}

/** Edit distance (insertions, deletions, substitutions), one row at a time. */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
