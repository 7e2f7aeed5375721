import { type App, Duration, Validations } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Settings } from '../shared/config/settings.js';
import { type DeploymentOptions, deploymentOptionsFromContext } from './deployment-options.js';
import { SyncStatefulStack } from './stateful-stack.js';
import { SyncStatelessStack } from './stateless-stack.js';

export interface SyncStacks {
  readonly options: DeploymentOptions;
  readonly stateful: SyncStatefulStack;
  readonly stateless: SyncStatelessStack;
}

/**
 * Adds both stacks to `app` from the validated settings and the app's context, and registers the
 * AWS Solutions checks (cdk-nag): any unacknowledged finding fails synth. Stacks are
 * environment-agnostic; `cdk deploy` targets the account and region of the caller's credentials.
 */
export function addSyncStacks(app: App, settings: Settings): SyncStacks {
  const options = deploymentOptionsFromContext(app.node);
  const stateful = new SyncStatefulStack(app, `${options.prefix}Stateful`, {
    description: 'Marketo-Salesforce sync: tables, queues and secrets (retained data)',
    ...(options.maxReceiveCount !== undefined && { maxReceiveCount: options.maxReceiveCount }),
  });
  const stateless = new SyncStatelessStack(app, `${options.prefix}Stateless`, {
    description: 'Marketo-Salesforce sync: functions, schedules, webhook API and alarms',
    settings,
    tables: stateful.tables,
    queues: stateful.queues,
    scheduleDeadLetterQueue: stateful.scheduleDeadLetterQueue,
    credentialsSecrets: stateful.credentialsSecrets,
    webhookSecret: stateful.webhookSecret,
    // The schema only admits CloudWatch's retention values, which are RetentionDays' values.
    logRetention: options.logRetentionDays as RetentionDays,
    webhookThrottle: { rateLimit: options.webhookRateLimit, burstLimit: options.webhookBurstLimit },
    writeMaxConcurrency: options.writeMaxConcurrency,
    queueAgeAlarm: Duration.minutes(options.queueAgeAlarmMinutes),
    ...(options.fetchMaxConcurrency !== undefined && { fetchMaxConcurrency: options.fetchMaxConcurrency }),
    ...(options.webhookReservedConcurrency !== undefined && {
      webhookReservedConcurrency: options.webhookReservedConcurrency,
    }),
    ...(options.alarmEmail !== undefined && { alarmEmail: options.alarmEmail }),
    ...(options.webhookAcceptedAlarm !== undefined && { webhookAcceptedAlarm: options.webhookAcceptedAlarm }),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { options, stateful, stateless };
}
