import { describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../infra/app-function.js';
import { metricNames } from '../../shared/observability/metrics.js';
import { buildTestApp, logicalId } from './sync-test-app.js';

const { statelessTemplate: template, statefulTemplate, stateless } = buildTestApp();

/**
 * The dashboard body as JSON: CloudFormation joins string parts with references; each reference is
 * replaced by a readable stand-in (`ref:<LogicalId>`, `arn:<LogicalId>`, `import:<...>`) so tests
 * can say which resource a widget plots.
 */
function dashboardBody(): { widgets: Widget[] } {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = (dashboards[0] as { Properties: { DashboardBody: unknown } }).Properties.DashboardBody;
  const parts = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const text = parts.map((p) => (typeof p === 'string' ? p : standIn(p))).join('');
  return JSON.parse(text) as { widgets: Widget[] };
}

function standIn(token: unknown): string {
  const t = token as Record<string, unknown>;
  if ('Ref' in t) return `ref:${String(t.Ref)}`;
  if ('Fn::GetAtt' in t) return `getatt:${(t['Fn::GetAtt'] as string[]).join('.')}`;
  if ('Fn::ImportValue' in t) return `import:${JSON.stringify(t['Fn::ImportValue']).replace(/"/g, "'")}`;
  return `token:${JSON.stringify(t).replace(/"/g, "'")}`;
}

interface Widget {
  type: string;
  properties: {
    title?: string;
    metrics?: unknown[][];
    alarms?: string[];
  };
}

/** Every plotted metric as namespace, name and dimensions (CDK writes each in full, options last). */
function plotted(
  widgets: Widget[],
): { namespace: string; name: string; dimensions: Record<string, string> }[] {
  return widgets.flatMap((w) =>
    (w.properties.metrics ?? []).map((m) => {
      const fields = m.filter((x): x is string => typeof x === 'string');
      const [namespace = '', name = '', ...dims] = fields;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < dims.length; i += 2) dimensions[dims[i] as string] = dims[i + 1] as string;
      return { namespace, name, dimensions };
    }),
  );
}

describe('dashboard', () => {
  const { widgets } = dashboardBody();
  const metrics = plotted(widgets);

  it('plots from our namespace only metrics the code emits (the METRICS catalogue), and every one of them', () => {
    const ours = metrics.filter((m) => m.namespace === METRICS_NAMESPACE);
    const emitted = new Set(metricNames());
    const unknown = ours.filter((m) => !emitted.has(m.name)).map((m) => m.name);
    expect(unknown).toEqual([]);
    expect(new Set(ours.map((m) => m.name))).toEqual(emitted);
    // Under the service dimension every function emits with (POWERTOOLS_SERVICE_NAME).
    for (const m of ours) expect(m.dimensions.service, m.name).toBe(SERVICE_NAME);
  });

  it('plots errors and duration of every function of the stack', () => {
    const fnIds = [...Object.values(stateless.functions), ...Object.values(stateless.salesActivityJobs)].map(
      (f) => `ref:${logicalId(f.function)}`,
    );
    expect(fnIds.length).toBeGreaterThan(0);
    for (const name of ['Errors', 'Duration']) {
      const plottedFns = metrics
        .filter((m) => m.namespace === 'AWS/Lambda' && m.name === name)
        .map((m) => m.dimensions.FunctionName);
      expect(new Set(plottedFns), name).toEqual(new Set(fnIds));
    }
  });

  it('plots the depth and oldest-message age of every queue and dead-letter queue', () => {
    const queueCount = Object.keys(statefulTemplate.findResources('AWS::SQS::Queue')).length;
    for (const name of ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage']) {
      const queues = new Set(
        metrics
          .filter((m) => m.namespace === 'AWS/SQS' && m.name === name)
          .map((m) => m.dimensions.QueueName),
      );
      expect(queues.size, name).toBe(queueCount);
    }
  });

  it('shows the state of every alarm of the stack', () => {
    const alarmIds = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarmIds.length).toBeGreaterThan(0);
    const status = widgets.filter((w) => w.type === 'alarm');
    expect(status).toHaveLength(1);
    expect(new Set(status[0]?.properties.alarms)).toEqual(new Set(alarmIds.map((id) => `getatt:${id}.Arn`)));
  });
});
