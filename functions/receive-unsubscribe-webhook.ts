import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { webhookDepsFromEnv } from '../shared/optouts/opt-out-runtime.js';
import { handleUnsubscribeRequest, type WebhookDeps } from '../shared/optouts/webhook-request.js';

/** POST /webhooks/unsubscribe (API Gateway HTTP API, payload v2). The logic is the shared core. */
export const createReceiveUnsubscribeWebhook = (deps: WebhookDeps) =>
  middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(
      // Anything unexpected (DynamoDB or SQS down): a bare 500, never the internal message.
      httpErrorHandler({
        logger: (error: Error) =>
          deps.logger.error('Webhook request failed', {
            error: { name: error?.name, message: error?.message },
          }),
        fallbackMessage: JSON.stringify({ error: 'internal_error', message: 'Not accepted; retry later.' }),
      }),
    )
    .use({
      // Runs before httpErrorHandler: an error's own statusCode (some libraries set one) must never
      // make its message the response. The core answers every 4xx itself; a throw is always a 500.
      onError: (request) => {
        if (request.error !== null && typeof request.error === 'object')
          Object.assign(request.error, { expose: false });
      },
    })
    .handler((event) =>
      handleUnsubscribeRequest(deps, {
        headers: event.headers ?? {},
        body:
          event.body === undefined
            ? undefined
            : event.isBase64Encoded
              ? Buffer.from(event.body, 'base64')
              : event.body,
      }),
    );

export const handler = createReceiveUnsubscribeWebhook(webhookDepsFromEnv('receive-unsubscribe-webhook'));
