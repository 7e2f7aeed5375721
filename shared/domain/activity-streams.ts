import type { ActivityTypeSetting, Settings } from '../config/settings.js';
import { MARKETO_MAX_ACTIVITY_TYPE_IDS } from '../ports/vendor-limits.js';
import type { ActivityType } from './activity.js';
import { CUSTOM_TYPE_MIN_ID, standardTypeByName } from './standard-activity-types.js';

export interface ResolvedType {
  id: number;
  name: string;
}

export interface ActivityStream {
  /** Stable key: the sorted type ids. A changed grouping starts a new cursor (re-reads are deduped). */
  key: string;
  types: ResolvedType[];
}

/** How one enabled setting was matched to the instance's catalogue (printed by the CLI, kept in the run report). */
export interface TypeResolution {
  setting: string;
  id: number;
  /** standardId: the documented id of a standard type; pinnedId: the setting's `id`; name: by name (custom types). */
  by: 'standardId' | 'pinnedId' | 'name';
  /** The name the instance's types.json gives that id. */
  instanceName: string;
}

export interface StreamPlan {
  streams: ActivityStream[];
  /** Enabled optional types the instance does not have (skipped, reported as `typesMissing`). */
  typesMissing: string[];
  resolutions: TypeResolution[];
  /** Names that differ from the instance's for the same id (resolved by id; each names both). */
  warnings: string[];
}

export class UnknownActivityTypeError extends Error {
  override readonly name = 'UnknownActivityTypeError';
  constructor(readonly problems: string[]) {
    super(
      `Invalid sync settings: activity types this Marketo instance does not have: ${problems.join('; ')}. ` +
        'Fix activities.types (names as types.json lists them), or mark the type "optional": true.',
    );
  }
}

/**
 * Matches each enabled setting to the instance's types and groups ids ≤ 10 per stream. A standard
 * type (STANDARD_ACTIVITY_TYPES) is found by its documented id, a custom one by its pinned id or
 * its name; names are compared case-insensitively and a different name for the same id is only a
 * warning. An enabled type the instance lacks is refused unless it is optional (then reported).
 */
export function planStreams(settings: Settings, instanceTypes: ActivityType[]): StreamPlan {
  const byName = new Map(instanceTypes.map((t) => [t.name.toLowerCase(), t]));
  const byId = new Map(instanceTypes.map((t) => [t.id, t]));
  const problems: string[] = [];
  const typesMissing: string[] = [];
  const warnings: string[] = [];
  const resolutions: TypeResolution[] = [];
  const resolved: ResolvedType[] = [];
  settings.activities.types.forEach((setting, index) => {
    if (!setting.enabled) return;
    const found = resolveOne(setting, byName, byId);
    if (found.ok) {
      resolved.push({ id: found.type.id, name: setting.name });
      resolutions.push({
        setting: setting.name,
        id: found.type.id,
        by: found.by,
        instanceName: found.type.name,
      });
      if (found.type.name.toLowerCase() !== setting.name.toLowerCase()) {
        warnings.push(
          `activities.types.${index} "${setting.name}" is named "${found.type.name}" on this instance (id ${found.type.id}); resolved by id`,
        );
      }
    } else if (setting.optional && found.reason === 'missing') typesMissing.push(setting.name);
    else problems.push(`activities.types.${index} ("${setting.name}"): ${found.message}`);
  });
  if (problems.length) throw new UnknownActivityTypeError(problems);
  resolved.sort((a, b) => a.id - b.id);
  const streams: ActivityStream[] = [];
  for (let i = 0; i < resolved.length; i += MARKETO_MAX_ACTIVITY_TYPE_IDS) {
    const types = resolved.slice(i, i + MARKETO_MAX_ACTIVITY_TYPE_IDS);
    streams.push({ key: types.map((t) => t.id).join(','), types });
  }
  return { streams, typesMissing, resolutions, warnings };
}

type Resolution =
  | { ok: true; type: ActivityType; by: TypeResolution['by'] }
  | { ok: false; reason: 'missing' | 'mismatch'; message: string };

function resolveOne(
  setting: ActivityTypeSetting,
  byName: Map<string, ActivityType>,
  byId: Map<number, ActivityType>,
): Resolution {
  const named = byName.get(setting.name.toLowerCase());
  const standard = standardTypeByName(setting.name);
  const id = setting.id ?? standard?.id;
  if (id === undefined) {
    if (!named) return { ok: false, reason: 'missing', message: 'no activity type with that name' };
    return { ok: true, type: named, by: 'name' };
  }
  const by = setting.id === undefined || setting.id === standard?.id ? 'standardId' : 'pinnedId';
  const type = byId.get(id);
  if (!type) {
    const where = by === 'standardId' ? `its documented id ${id}` : `id ${id}`;
    return { ok: false, reason: 'missing', message: `no activity type with ${where}` };
  }
  // A pinned custom id that another instance type's name claims is a contradiction, not a rename.
  if (id >= CUSTOM_TYPE_MIN_ID && named && named.id !== type.id) {
    return { ok: false, reason: 'mismatch', message: `id ${id} is "${type.name}", not "${setting.name}"` };
  }
  return { ok: true, type, by };
}

/** The setting for an activity type name (case-insensitive), if enabled. */
export function enabledSettingFor(settings: Settings, typeName: string): ActivityTypeSetting | undefined {
  const key = typeName.toLowerCase();
  return settings.activities.types.find((t) => t.enabled && t.name.toLowerCase() === key);
}

export interface TimeWindow {
  index: number;
  from: string;
  /** Exclusive end; undefined for the last window (read until Marketo says moreResult: false). */
  until?: string;
}

/**
 * Shares `total` concurrent windows among the streams, in proportion to their type counts (a
 * stream of one type rarely holds as many activities as one of ten), at least one each. Every
 * window costs a paging-token call and, on average, half a page cut short at its end, so windows
 * go where the volume probably is instead of `total` to every stream.
 */
export function allocateWindows(streams: readonly Pick<ActivityStream, 'types'>[], total: number): number[] {
  const weights = streams.map((s) => s.types.length);
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const target = Math.max(total, streams.length);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map((x) => Math.max(1, Math.floor(x)));
  const count = () => out.reduce((a, b) => a + b, 0);
  // Largest shortfall gets the next window; the most over-served gives one back (ties: earlier stream).
  const pick = (score: (i: number) => number, eligible: (i: number) => boolean) =>
    out.reduce((best, _, i) => (eligible(i) && (best < 0 || score(i) > score(best)) ? i : best), -1);
  while (count() < target) {
    const i = pick(
      (j) => (exact[j] as number) - (out[j] as number),
      () => true,
    );
    out[i] = (out[i] as number) + 1;
  }
  while (count() > target) {
    const i = pick(
      (j) => (out[j] as number) - (exact[j] as number),
      (j) => (out[j] as number) > 1,
    );
    out[i] = (out[i] as number) - 1;
  }
  return out;
}

/**
 * Splits [from, now) into `count` windows read concurrently on a back-fill, each at least
 * `minWindowMs` long: an incremental run (a nightly span of a day and the overlap) reads one
 * open-ended window, where extra windows would only add token calls and short pages.
 */
export function splitWindows(
  from: Date,
  now: Date,
  count: number,
  minWindowMs = 24 * 3600_000,
): TimeWindow[] {
  const span = now.getTime() - from.getTime();
  const n = Math.max(1, Math.min(count, Math.floor(span / minWindowMs)));
  const size = span / n;
  const windows: TimeWindow[] = [];
  for (let i = 0; i < n; i++) {
    const start = new Date(from.getTime() + Math.round(i * size)).toISOString();
    const end = i === n - 1 ? undefined : new Date(from.getTime() + Math.round((i + 1) * size)).toISOString();
    windows.push(end === undefined ? { index: i, from: start } : { index: i, from: start, until: end });
  }
  return windows;
}
