// Relays one message to one recipient through the upstream SMTP server (MAILBEACON_RELAY_URL)
// with nodemailer's pooled SMTP client, one pool per (relay URL, TlsPolicy), and turns the
// reply into a verdict (RFC 5321 4.2.1: 2yz done, 5yz permanent, 4yz transient; a broken or
// refused connection is transient). Trusts the relay URL (validated config); never logs it.
import nodemailer from 'nodemailer';
import type { ConnectionOptions } from 'node:tls';

export type TlsPolicy = 'REQUIRE' | 'OPTIONAL';

export type RelayVerdict =
  | { kind: 'delivered'; response: string }
  | { kind: 'permanent'; response: string }
  | { kind: 'temporary'; response: string; connection: boolean };

export interface RelayOptions {
  /** Extra TLS settings (e.g. a private CA for the upstream); merged into each pool's. */
  tls?: ConnectionOptions;
  /** Client timeouts; the defaults suit real relays, tests shorten them. */
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
  maxConnections?: number;
}

interface SendFailure {
  code?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  message?: string;
  rejectedErrors?: SendFailure[];
}

/** A verdict from nodemailer's error: the per-recipient reply when there is one. */
/** Commands of the session setup: a refusal there is about our connection, not the message. */
const SETUP_COMMANDS = /^(CONN|GREETING|EHLO|HELO|LHLO|STARTTLS|AUTH)\b/i;

export function verdictFromError(err: SendFailure): RelayVerdict {
  if ((err.command && SETUP_COMMANDS.test(err.command)) || err.code === 'ETLS' || err.code === 'EAUTH') {
    const why = [err.code, err.response ?? err.message].filter(Boolean).join(' ').replace(/\s+/g, ' ').slice(0, 300);
    return { kind: 'temporary', response: why || 'connection setup failed', connection: true };
  }
  const e = err.rejectedErrors?.[0] ?? err;
  const code = e.responseCode ?? err.responseCode;
  const response = (e.response ?? err.response ?? '').trim();
  if (typeof code === 'number' && code >= 400 && code < 600) {
    // 503 is a protocol-sequence problem on our side, not a verdict on the message.
    if (code >= 500 && code !== 503) return { kind: 'permanent', response: response || `${code}` };
    return { kind: 'temporary', response: response || `${code}`, connection: false };
  }
  // Connection refused/reset, timeouts, TLS required but not offered, auth trouble: ours or
  // the network's, not the recipient's, so the message waits for a later attempt.
  const why = [err.code, err.message].filter(Boolean).join(' ').replace(/\s+/g, ' ').slice(0, 300);
  return { kind: 'temporary', response: why || 'connection failed', connection: true };
}

type Pool = ReturnType<typeof nodemailer.createTransport>;

export class Relay {
  private readonly pools = new Map<TlsPolicy, Pool>();

  constructor(private readonly relayUrl: string, private readonly opts: RelayOptions = {}) {}

  private pool(policy: TlsPolicy): Pool {
    let p = this.pools.get(policy);
    if (p) return p;
    const u = new URL(this.relayUrl);
    const secure = u.protocol === 'smtps:';
    const auth = u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined;
    p = nodemailer.createTransport({
      pool: true,
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port ? Number(u.port) : secure ? 465 : 587,
      secure,
      auth,
      maxConnections: this.opts.maxConnections ?? 5,
      maxMessages: 100,
      // REQUIRE: STARTTLS or nothing, with a verified certificate (SES TlsPolicy semantics).
      // OPTIONAL: opportunistic STARTTLS as MTAs do (RFC 3207 section 4.1), so an
      // unverifiable certificate or a failed upgrade still delivers.
      requireTLS: policy === 'REQUIRE' && !secure,
      opportunisticTLS: policy === 'OPTIONAL',
      tls: { ...(policy === 'OPTIONAL' ? { rejectUnauthorized: false } : {}), ...this.opts.tls },
      connectionTimeout: this.opts.connectionTimeoutMs ?? 30_000,
      greetingTimeout: this.opts.connectionTimeoutMs ?? 30_000,
      socketTimeout: this.opts.socketTimeoutMs ?? 120_000,
      logger: false,
    });
    this.pools.set(policy, p);
    return p;
  }

  async send(from: string, to: string, raw: Buffer, policy: TlsPolicy): Promise<RelayVerdict> {
    try {
      const info = await this.pool(policy).sendMail({ envelope: { from, to: [to] }, raw });
      if (info.accepted.length > 0) return { kind: 'delivered', response: String(info.response ?? '250') };
      return verdictFromError({ response: info.response, message: 'recipient not accepted' });
    } catch (e) {
      return verdictFromError(e as SendFailure);
    }
  }

  close(): void {
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
  }
}
