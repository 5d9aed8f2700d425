// Parses KinesisFirehoseDestination.DeliveryStreamArn the liberal way Postbox documents it:
// "arn:aws:kinesis:<region>:<folder>:<endpoint-url>:<stream>" (endpoint = the URL inside,
// stream = the part after its last ':'), and a plain AWS "arn:aws:kinesis:R:A:stream/NAME"
// (SDK default endpoint for the region). Pure; trusts nothing in the string.

export interface StreamTarget {
  /** SigV4 signing region; "us-east-1" when the ARN leaves it empty. */
  region: string;
  /** Endpoint origin (scheme://host[:port]); undefined = the SDK's default for the region. */
  endpoint: string | undefined;
  /**
   * Stream name sent in PutRecords. When the endpoint URL carries a path (Yandex Data
   * Streams: https://yds.serverless.yandexcloud.net/ru-central1/<folder>/<db>), the path is
   * the stream's database and YDS expects the full name "/ru-central1/<folder>/<db>/<stream>".
   */
  streamName: string;
}

export class StreamArnError extends Error {
  override name = 'StreamArnError';
}

const STREAM_NAME = /^[A-Za-z0-9_.\-/]{1,512}$/;

export function parseStreamArn(arn: string): StreamTarget {
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) throw new StreamArnError('DeliveryStreamArn must start with "arn:"');
  const urlAt = arn.search(/https?:\/\//);
  if (urlAt >= 0) {
    const head = arn.slice(0, urlAt).split(':'); // ["arn", partition, service, region, account, ""]
    const region = head[3] || 'us-east-1';
    const tail = arn.slice(urlAt);
    const cut = tail.lastIndexOf(':');
    const schemeEnd = tail.indexOf('://');
    if (cut <= schemeEnd) throw new StreamArnError('DeliveryStreamArn: expected "<endpoint-url>:<stream-name>" after the account');
    const rawUrl = tail.slice(0, cut);
    const name = tail.slice(cut + 1);
    let u: URL;
    try {
      u = new URL(rawUrl);
    } catch {
      throw new StreamArnError('DeliveryStreamArn: the endpoint inside is not a valid URL');
    }
    if (u.username || u.password || u.search || u.hash) throw new StreamArnError('DeliveryStreamArn: the endpoint must not carry credentials, a query or a fragment');
    if (!STREAM_NAME.test(name) || name.includes('/')) throw new StreamArnError('DeliveryStreamArn: the stream name after the last ":" is missing or invalid');
    const path = u.pathname.replace(/\/+$/, '');
    return { region, endpoint: u.origin, streamName: path ? `${path}/${name}` : name };
  }
  const parts = arn.split(':');
  if (parts.length !== 6) throw new StreamArnError('DeliveryStreamArn: expected arn:aws:kinesis:REGION:ACCOUNT:stream/NAME or arn:...:<endpoint-url>:<stream>');
  const [, , service, region, , resource] = parts as [string, string, string, string, string, string];
  if (service === 'firehose') throw new StreamArnError('DeliveryStreamArn: Firehose delivery streams are not supported; give a Kinesis data stream ARN');
  const m = /^stream\/(.+)$/.exec(resource);
  if (service !== 'kinesis' || !m || !STREAM_NAME.test(m[1]!) || m[1]!.includes('/')) {
    throw new StreamArnError('DeliveryStreamArn: expected arn:aws:kinesis:REGION:ACCOUNT:stream/NAME');
  }
  if (!region) throw new StreamArnError('DeliveryStreamArn: the region is missing');
  return { region, endpoint: undefined, streamName: m[1]! };
}
