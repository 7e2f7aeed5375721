import type { Settings } from '../config/settings.js';

export class UnknownReplayTypeError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The settings with only the named types enabled (case-insensitive), for planning the streams of
 * a replay (`sync activities --since T --types a,b`); an unknown or disabled name is refused.
 */
export function onlyTypes(settings: Settings, names: readonly string[]): Settings {
  const enabled = settings.activities.types.filter((t) => t.enabled);
  const wanted = new Set(names.map((n) => n.trim().toLowerCase()).filter(Boolean));
  const unknown = [...wanted].filter((n) => !enabled.some((t) => t.name.toLowerCase() === n));
  if (unknown.length || wanted.size === 0)
    throw new UnknownReplayTypeError(
      `--types must name enabled activity types (${enabled.map((t) => t.name).join(', ')}); unknown: ${unknown.map((n) => `"${n}"`).join(', ') || '(none given)'}`,
    );
  const types = settings.activities.types.map((t) => ({
    ...t,
    enabled: t.enabled && wanted.has(t.name.toLowerCase()),
  }));
  return { ...settings, activities: { ...settings.activities, types } };
}
