import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { WEBHOOK_PATH } from '../shared/optouts/webhook-request.js';
import type { AppFunction } from './app-function.js';

export interface WebhookApiProps {
  /** The intake function (receive-unsubscribe-webhook). */
  readonly handler: AppFunction;
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
}

/**
 * The unsubscribe webhook: an HTTP API with one POST route to the intake function, a throttled
 * `$default` stage and access logs without personal data. Construct ids are the stack's own
 * (added to `scope`), so the template is the same as when this lived in the stack.
 */
export function addWebhookApi(
  scope: Construct,
  props: WebhookApiProps,
): { api: HttpApi; stage: HttpStage; accessLogs: LogGroup; url: string } {
  const api = new HttpApi(scope, 'WebhookApi', {
    description: 'Unsubscribe webhook of the Marketo-Salesforce sync',
    createDefaultStage: false,
  });
  const route = api.addRoutes({
    path: WEBHOOK_PATH,
    methods: [HttpMethod.POST],
    integration: new HttpLambdaIntegration('UnsubscribeIntegration', props.handler.function),
  });
  for (const r of route) {
    Validations.of(r).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The sender (Marketo "Call Webhook") can only send a static header, not IAM/JWT: the receiver authenticates the X-Webhook-Secret header against the webhook secret (current or previous) and answers 401 before any write.',
    });
  }
  const accessLogs = new LogGroup(scope, 'WebhookAccessLogs', {
    retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stage = new HttpStage(scope, 'WebhookStage', {
    httpApi: api,
    stageName: '$default',
    autoDeploy: true,
    throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
    accessLogSettings: {
      destination: new LogGroupLogDestination(accessLogs),
      // No source IP, user agent or body: the access log carries no personal data.
      format: AccessLogFormat.custom(
        JSON.stringify({
          requestId: '$context.requestId',
          requestTime: '$context.requestTime',
          routeKey: '$context.routeKey',
          status: '$context.status',
          responseLength: '$context.responseLength',
          latency: '$context.responseLatency',
          integrationLatency: '$context.integrationLatency',
          integrationError: '$context.integrationErrorMessage',
        }),
      ),
    },
  });
  return { api, stage, accessLogs, url: `${stage.url}${WEBHOOK_PATH.slice(1)}` };
}
