import { handleUnsubscribeRequest } from '../shared/optouts/webhook-request.js';
import { httpFunction } from '../shared/runtime/function-builder.js';
import { webhookRuntime } from '../shared/runtime/webhook-runtime.js';

/** POST /webhooks/unsubscribe (API Gateway HTTP API, payload v2): the shared core, a bare 500 on any throw. */
export const handler = httpFunction('receive-unsubscribe-webhook', webhookRuntime, handleUnsubscribeRequest);
