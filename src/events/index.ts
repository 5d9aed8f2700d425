// Public surface of the notification stage: the dispatcher, its Sink type and sinks,
// the event model, and the URL/ARN checks the API uses when a destination is created.
export { startDispatcher, DEFAULT_POLL_MS, type Dispatcher, type DispatcherDeps } from './dispatcher.js';
export type { Sink, SinkItem, SinkOutcome } from './sink.js';
export { createWebhookSink, WEBHOOK_TIMEOUT_MS, type WebhookSinkOptions } from './webhook-sink.js';
export { createKinesisSink, type KinesisSinkOptions } from './kinesis-sink.js';
export { parseStreamArn, StreamArnError, type StreamTarget } from './kinesis-arn.js';
export { checkWebhookUrl, isPublicAddress, PrivateAddressError } from './address-guard.js';
export { signWebhook, verifyWebhook, signingSecretProblem } from './webhook-signature.js';
export { fullJitterBackoff, parseRetryAfter } from './backoff.js';
export { renderEvent, detailKey, eventId, rfc3339, type Notification } from './model.js';
