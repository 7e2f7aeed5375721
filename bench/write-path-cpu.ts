/**
 * CPU cost of the write path's own work per 1,000 activities, in-process: parse + zod-validate a
 * write message (parseMessage), map each activity to a Task (mapActivityToTask), serialise the
 * Tasks as sObject Collections bodies of 200. The baseline is a bare JSON.parse + JSON.stringify
 * of the same message bodies, measured in the same process, interleaved round by round.
 */

import { publicActivity, type World } from '../sandboxes/world.js';
import {
  parseMessage,
  type WriteActivity,
  type WriteMessage,
  writeMessageSchema,
} from '../shared/activities/messages.js';
import type { Settings } from '../shared/config/settings.js';
import { enabledSettingFor } from '../shared/domain/activity-streams.js';
import { mapActivityToTask } from '../shared/domain/task-mapping.js';
import { MARKETO_PAGE_SIZE, median, SALESFORCE_COLLECTION_SIZE } from './figures.js';
import { enabledTypeIds } from './pipeline-run.js';

export interface WritePathCpu {
  activities: number;
  rounds: number;
  /** CPU ms (user + system) per 1,000 activities, median over rounds. */
  mapValidateSerialiseMs: number;
  bareJsonMs: number;
  /** mapValidateSerialise / bareJson. */
  ratio: number;
}

/** Write messages as the fetch step builds them: one per page of 300 activities. */
export function writeBodies(world: World, settings: Settings, count: number): string[] {
  const ids = new Set(enabledTypeIds(settings, world));
  const names = new Map(world.activityTypes.map((t) => [t.id, t.name]));
  const activities: WriteActivity[] = [];
  for (const a of world.activities) {
    if (activities.length >= count) break;
    if (!ids.has(a.activityTypeId)) continue;
    const { id: _id, ...rest } = publicActivity(a) as WriteActivity & { id?: number };
    activities.push({ ...rest, activityTypeName: names.get(a.activityTypeId) ?? 'unknown' });
  }
  const bodies: string[] = [];
  for (let i = 0; i < activities.length; i += MARKETO_PAGE_SIZE) {
    const msg: WriteMessage = {
      kind: 'writeTasks',
      runId: 'bench',
      activities: activities.slice(i, i + MARKETO_PAGE_SIZE),
    };
    bodies.push(JSON.stringify(msg));
  }
  return bodies;
}

function mapValidateSerialise(bodies: string[], settings: Settings): number {
  let bytes = 0;
  for (const body of bodies) {
    const msg = parseMessage(writeMessageSchema, 'write', body);
    const tasks = msg.activities.map((activity) => {
      const setting = enabledSettingFor(settings, activity.activityTypeName);
      if (!setting) throw new Error(`type ${activity.activityTypeName} is not enabled`);
      return mapActivityToTask({
        activity,
        activityTypeName: activity.activityTypeName,
        setting,
        whoId: '00Q5e00000AbCdEFGH',
        externalIdField: settings.salesforce.taskExternalIdField,
      });
    });
    for (let i = 0; i < tasks.length; i += SALESFORCE_COLLECTION_SIZE) {
      const records = tasks
        .slice(i, i + SALESFORCE_COLLECTION_SIZE)
        .map((t) => ({ attributes: { type: 'Task' }, ...t }));
      bytes += JSON.stringify({ allOrNone: false, records }).length;
    }
  }
  return bytes;
}

function bareJson(bodies: string[]): number {
  let bytes = 0;
  for (const body of bodies) bytes += JSON.stringify(JSON.parse(body)).length;
  return bytes;
}

function cpuMs(work: () => unknown): number {
  const before = process.cpuUsage();
  work();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

export function measureWritePathCpu(
  world: World,
  settings: Settings,
  activities = 10_000,
  rounds = 7,
): WritePathCpu {
  const bodies = writeBodies(world, settings, activities);
  const n = bodies.reduce((s, b) => s + (JSON.parse(b) as WriteMessage).activities.length, 0);
  // Warm-up: JIT and zod's compiled parsers, as in a warm Lambda.
  mapValidateSerialise(bodies, settings);
  bareJson(bodies);
  const ours: number[] = [];
  const bare: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ours.push(cpuMs(() => mapValidateSerialise(bodies, settings)));
    bare.push(cpuMs(() => bareJson(bodies)));
  }
  const per1000 = (ms: number) => (ms * 1000) / n;
  const a = per1000(median(ours));
  const b = per1000(median(bare));
  return { activities: n, rounds, mapValidateSerialiseMs: a, bareJsonMs: b, ratio: a / b };
}
