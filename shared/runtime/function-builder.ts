import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import * as z from 'zod';
import type { QueueKey } from '../adapters/sqs/queue-definitions.js';
import { queueUrlFromArn, SqsVisibilityDeferrer } from '../adapters/sqs/sqs-visibility-deferrer.js';
import { OPT_OUT_FULL_JOB } from '../config/job-schedule.js';
import { newRunId } from '../domain/run-report.js';
import { createLogger } from '../observability/logger.js';
import {
  type MetricsSink,
  noMetrics,
  powertoolsMetricsFromEnv,
  powertoolsSink,
} from '../observability/metrics.js';
import type { VisibilityDeferrer } from '../ports/visibility-deferrer.js';
import { type CallAccountingDeps, runIdOfBatch, withCallsCounted } from './call-accounting.js';
import { type FailureRecorder, failureRecorderFor } from './failure-recorder.js';
import { emitWebhookStatus, withCallsMeasured } from './metric-emitters.js';
import { once } from './once.js';
import { type Platform, platformFromEnv } from './platform.js';
import { type SqsConsumer, sqsConsumerHandler } from './sqs-batch.js';

/**
 * How a family of functions gets its dependencies. `compose` runs at cold start (module load):
 * whatever the environment must provide is checked there and a missing variable fails the cold
 * start, named. It returns the rest, built on the first invocation and kept (vendor secrets).
 */
export interface Runtime<D> {
  compose(platform: Platform, env: NodeJS.ProcessEnv): () => Promise<D>;
  /** When set, each invocation's vendor API calls are added to its activity run report. */
  accounting?: (deps: D) => CallAccountingDeps;
}

/** A function's metrics: the sink its steps add to, and the middleware that flushes them once per invocation. */
export interface FunctionMetrics {
  sink: MetricsSink;
  flush: MiddlewareObj[];
}

/** Powertools metrics (EMF) when the environment names a namespace (the stack does); none otherwise (CLI, tests). */
export function functionMetricsFromEnv(env: NodeJS.ProcessEnv): FunctionMetrics {
  const metrics = powertoolsMetricsFromEnv(env);
  return metrics ? { sink: powertoolsSink(metrics), flush: [logMetrics(metrics)] } : NO_METRICS;
}

const NO_METRICS: FunctionMetrics = { sink: noMetrics, flush: [] };

interface Composed<D> {
  logger: Logger;
  metrics: FunctionMetrics;
  platform: Platform;
  deps: () => Promise<D>;
  counted<T>(deps: D, runId: string | undefined, work: () => Promise<T>): Promise<T>;
}

/**
 * Where a function's platform comes from: by default the environment (in Lambda); tests and
 * other hosts may give the environment or the platform itself (clients injected or defaulted).
 */
export interface FunctionHost {
  env?: NodeJS.ProcessEnv;
  /** Its logger is the function's logger (the one that carries the Lambda context). */
  platform?: Platform;
}

function compose<D>(service: string, runtime: Runtime<D>, host: FunctionHost): Composed<D> {
  const env = host.env ?? process.env;
  const platform = host.platform ?? platformFromEnv(createLogger(service), env);
  const metrics = functionMetricsFromEnv(env);
  return {
    logger: platform.logger,
    metrics,
    platform,
    deps: once(runtime.compose(platform, env)),
    counted: (deps, runId, work) => {
      if (!runtime.accounting) return work();
      const accounting = runtime.accounting(deps);
      return withCallsCounted(accounting, runId, () => withCallsMeasured(accounting, metrics.sink, work));
    },
  };
}

/**
 * An SQS consumer function: Lambda context in every log line, partial batch failures (one bad
 * message never makes SQS redeliver its neighbours), a message whose vendor budget is spent
 * hidden until the budget is back, why each failed message failed kept for `sync dlq`, and the
 * batch's vendor calls added to its run report.
 */
export function sqsFunction<D>(
  service: string,
  options: {
    queue: QueueKey;
    runtime: Runtime<D>;
    /** Default: SQS ChangeMessageVisibility on the record's own queue. */
    deferrer?: VisibilityDeferrer;
    /** Default: the failures table. */
    failureRecorder?: FailureRecorder;
  },
  consumer: SqsConsumer<NoInfer<D>>,
  host: FunctionHost = {},
) {
  const fn = compose(service, options.runtime, host);
  const batchOptions = {
    logger: fn.logger,
    deferrer: options.deferrer ?? new SqsVisibilityDeferrer(fn.platform.sqs, queueUrlFromArn),
    failures: {
      queue: options.queue,
      recorder: options.failureRecorder ?? failureRecorderFor(fn.platform.doc, fn.platform.tables),
    },
    metrics: fn.metrics.sink,
  };
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(fn.logger))
    .use(fn.metrics.flush)
    .handler(async (event, context) => {
      const deps = await fn.deps();
      return fn.counted(deps, runIdOfBatch(event.Records), () =>
        sqsConsumerHandler(consumer, deps, batchOptions)(event, context),
      );
    });
}

/**
 * The input the EventBridge Scheduler target sends (infra/stateless-stack.ts `scheduleTarget`);
 * a manual invocation may send nothing.
 */
export const scheduleInputSchema = z
  .strictObject({
    job: z.string().optional(),
    /** <aws.scheduler.scheduled-time>: the time the schedule was due, ISO 8601. */
    scheduledTime: z.iso.datetime({ offset: true }).optional(),
    /** <aws.scheduler.execution-id>: the same for every retry of one scheduled invocation. */
    executionId: z.string().min(1).optional(),
    /** Job `optouts-full` invoked by hand: the CLI's `--id-gap` (ids past the highest lead found). */
    idGap: z.number().int().min(1).max(100_000_000).optional(),
  })
  // Nothing accepted and ignored: a key no job reads is refused (strict), and so is an option
  // given to a job that does not take it.
  .refine((input) => input.idGap === undefined || input.job === OPT_OUT_FULL_JOB, {
    path: ['idGap'],
    message: `applies only to the job "${OPT_OUT_FULL_JOB}"`,
  });

export class ScheduleInputError extends Error {
  override readonly name = 'ScheduleInputError';
  constructor(issues: string, options?: { cause?: unknown }) {
    super(
      `The scheduled invocation's input is not what the schedule sends (${issues}). Invoke with {} or with the schedule's input.`,
      options,
    );
  }
}

/** One run of a scheduled job: its run id names the time the schedule was due (now, when invoked by hand). */
export interface ScheduledRun {
  runId: string;
  /** The job the schedule names (one function may serve two schedules, e.g. a continuation). */
  job?: string;
  scheduledTime?: string;
  executionId?: string;
  /** Job `optouts-full` only: ids past the highest Marketo lead found before its walk ends. */
  idGap?: number;
}

export function scheduledRunOf(event: unknown, now: () => Date = () => new Date()): ScheduledRun {
  const parsed = scheduleInputSchema.safeParse(event ?? {});
  if (!parsed.success)
    throw new ScheduleInputError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
      { cause: parsed.error },
    );
  const { job, scheduledTime, executionId, idGap } = parsed.data;
  return {
    runId: newRunId(scheduledTime ? new Date(scheduledTime) : now()),
    ...(job ? { job } : {}),
    ...(idGap !== undefined ? { idGap } : {}),
    ...(scheduledTime ? { scheduledTime } : {}),
    ...(executionId ? { executionId } : {}),
  };
}

/** A scheduled function (EventBridge Scheduler): Lambda context in logs, the run named by the schedule, calls counted. */
export function scheduledFunction<D, R>(
  service: string,
  runtime: Runtime<D>,
  job: (deps: NoInfer<D>, run: ScheduledRun, metrics: MetricsSink) => Promise<R>,
  host: FunctionHost = {},
) {
  const fn = compose(service, runtime, host);
  return middy<unknown, R>()
    .use(injectLambdaContext(fn.logger))
    .use(fn.metrics.flush)
    .handler(async (event) => {
      const run = scheduledRunOf(event);
      fn.logger.info('Scheduled run starts', { ...run });
      const deps = await fn.deps();
      return fn.counted(deps, run.runId, () => job(deps, run, fn.metrics.sink));
    });
}

/** A request as the HTTP use cases see it: headers in any case, the raw body. */
export interface HttpRequest {
  headers: Readonly<Record<string, string | undefined>>;
  body: string | Uint8Array | undefined;
  /** The peer address as API Gateway saw it (requestContext.http.sourceIp). */
  sourceIp?: string;
}
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}
export type HttpRoute<D> = (deps: D, request: HttpRequest) => Promise<HttpResponse>;

/** The answer to anything unexpected (DynamoDB or SQS down): a bare 500, never the internal message. */
export const INTERNAL_ERROR_BODY = JSON.stringify({
  error: 'internal_error',
  message: 'Not accepted; retry later.',
});

/**
 * The middy handler of an HTTP route (API Gateway HTTP API, payload v2) over built dependencies:
 * the body decoded, Lambda context in logs, every throw answered once as a bare 500, and each
 * answer counted by status (the one HTTP route is the webhook: WebhookRequests_<status>).
 */
export function httpHandler<D>(
  deps: () => Promise<D>,
  logger: Logger,
  route: HttpRoute<D>,
  metrics: FunctionMetrics = NO_METRICS,
) {
  // The metrics middleware is the innermost: its onError flushes before httpErrorHandler answers.
  const counted: HttpRoute<D> = async (d, request) => {
    try {
      const response = await route(d, request);
      emitWebhookStatus(metrics.sink, response.statusCode);
      return response;
    } catch (error) {
      emitWebhookStatus(metrics.sink, 500);
      throw error;
    }
  };
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger))
    .use(
      httpErrorHandler({
        logger: (error: Error) =>
          logger.error('Request failed', { error: { name: error?.name, message: error?.message } }),
        fallbackMessage: INTERNAL_ERROR_BODY,
      }),
    )
    .use({
      // Runs before httpErrorHandler: an error's own statusCode (some libraries set one) must never
      // make its message the response. The route answers every 4xx itself; a throw is always a 500.
      onError: (request) => {
        if (request.error !== null && typeof request.error === 'object')
          Object.assign(request.error, { expose: false });
      },
    })
    .use(metrics.flush)
    .handler(async (event) =>
      counted(await deps(), {
        headers: event.headers ?? {},
        body:
          event.body === undefined
            ? undefined
            : event.isBase64Encoded
              ? Buffer.from(event.body, 'base64')
              : event.body,
        ...(event.requestContext?.http?.sourceIp ? { sourceIp: event.requestContext.http.sourceIp } : {}),
      }),
    );
}

/** An HTTP function: its dependencies composed at cold start, then `httpHandler`. */
export function httpFunction<D>(
  service: string,
  runtime: Runtime<D>,
  route: HttpRoute<NoInfer<D>>,
  host: FunctionHost = {},
) {
  const fn = compose(service, runtime, host);
  return httpHandler(fn.deps, fn.logger, route, fn.metrics);
}
