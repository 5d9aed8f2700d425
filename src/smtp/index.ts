// SMTP submission interface: a STARTTLS listener (MAILBEACON_SMTP_LISTEN) and an implicit-TLS
// listener (MAILBEACON_SMTPS_LISTEN, RFC 8314), both requiring AUTH (RFC 4954) with SES-style
// SMTP credentials before MAIL, and both handing complete messages to the shared Submitter.
// The protocol is smtp-server's; session rules are in handlers.ts, bounds in limits.ts.
// Trusts the validated Config; trusts nothing the client sends.
import type net from 'node:net';
import type tls from 'node:tls';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { Config, HostPort } from '../config.js';
import type { Submitter } from '../core/types.js';
import type { Store } from '../store/port.js';
import { createHandlers } from './handlers.js';
import { resolveLimits, type SmtpLimits } from './limits.js';
import { wrapReplies } from './replies.js';
import { ensureTlsMaterial, type SmtpLog } from './tls-material.js';

export { sesSmtpPassword, verifySesSmtpPassword } from './password.js';
export { ensureTlsMaterial } from './tls-material.js';
export { DEFAULT_LIMITS, type SmtpLimits } from './limits.js';

export interface SmtpDeps {
  store: Store;
  submitter: Submitter;
  config: Config;
  log?: (m: string, f?: Record<string, unknown>) => void;
  /** Called after each message is durably queued; kicks the delivery worker. */
  onAccepted?: () => void;
  /** Overrides of the per-connection bounds (tests); defaults in limits.ts. */
  limits?: Partial<SmtpLimits>;
}

export interface SmtpHandle {
  ports: { smtp?: number; smtps?: number };
  close(): Promise<void>;
}

/**
 * Starts the configured listeners (null = off). Resolves once they listen; rejects (nothing
 * left listening) when a port cannot be bound or the TLS material is unusable.
 */
export async function startSmtp(deps: SmtpDeps): Promise<SmtpHandle> {
  const { config } = deps;
  const log: SmtpLog = deps.log ?? (() => {});
  const limits = resolveLimits(deps.limits);
  const servers: SMTPServer[] = [];
  const ports: SmtpHandle['ports'] = {};
  if (!config.smtpListen && !config.smtpsListen) return { ports, close: async () => {} };

  const { key, cert } = await ensureTlsMaterial(config, log);
  const handlers = createHandlers({ store: deps.store, submitter: deps.submitter, config, log, limits, onAccepted: deps.onAccepted });

  const base: SMTPServerOptions = {
    banner: 'mailbeacon ESMTP submission',
    key, cert,
    minVersion: 'TLSv1.2',
    size: config.maxMessageBytes,
    maxRecipients: config.maxRecipients,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    allowInsecureAuth: config.smtpAllowInsecureAuth,
    authRequiredMessage: '5.7.0 Authentication required',
    maxAllowedUnauthenticatedCommands: limits.maxUnauthenticatedCommands,
    maxCommandLength: limits.maxCommandLine,
    maxClients: limits.maxClients,
    socketTimeout: limits.idleTimeoutMs,
    closeTimeout: limits.closeGraceMs,
    disableReverseLookup: true,
    // We relay nothing the client can steer by DSN; hide it rather than half-support it.
    hideDSN: true,
    // sendmail's joke commands (WIZ answers every password) have no place on a submission port.
    disabledCommands: ['WIZ', 'SHELL', 'KILL'],
    // Postbox replies carry RFC 3463 codes (250 2.6.0, 535 5.7.8 ...); the library hides them by default.
    hideENHANCEDSTATUSCODES: false,
    logger: false,
    onAuth: handlers.onAuth,
    onMailFrom: handlers.onMailFrom,
    onData: handlers.onData,
    // onClose is not passed here: the library would set it on the instance and shadow
    // SubmissionServer.onClose, which calls it.
  };

  try {
    if (config.smtpListen) {
      ports.smtp = await listen(new SubmissionServer(log, limits, handlers.onClose, { ...base, secure: false }), config.smtpListen, servers);
      log('smtp: listening (STARTTLS)', { host: config.smtpListen.host, port: ports.smtp });
    }
    if (config.smtpsListen) {
      ports.smtps = await listen(new SubmissionServer(log, limits, handlers.onClose, { ...base, secure: true }), config.smtpsListen, servers);
      log('smtp: listening (implicit TLS)', { host: config.smtpsListen.host, port: ports.smtps });
    }
  } catch (e) {
    await Promise.all(servers.map(closeServer));
    throw e;
  }
  return { ports, close: async () => { await Promise.all(servers.map(closeServer)); } };
}

/**
 * smtp-server with per-connection guards the library lacks: the Postbox reply shapes
 * (replies.ts), a cap on replies per connection and a cap on connection lifetime.
 */
class SubmissionServer extends SMTPServer {
  private readonly lifetimers = new Map<SMTPServerSession, NodeJS.Timeout>();

  constructor(private readonly log: SmtpLog, private readonly limits: SmtpLimits, private readonly onSessionClose: (s: SMTPServerSession) => void,
    options: SMTPServerOptions) {
    super(options);
    // Without a listener, one client's socket error would be thrown and end the process.
    this.on('error', (err: Error & { code?: string }) => log('smtp: connection error', { code: err.code, error: err.message }));
  }

  override connect(socket: net.Socket | tls.TLSSocket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
    const before = new Set(this.connections);
    super.connect(socket, socketOptions);
    // super.connect adds exactly one connection synchronously; wrap it before any reply goes out.
    for (const conn of this.connections) {
      if (before.has(conn)) continue;
      wrapReplies(conn, this.limits.maxCommandsPerConnection, () => this.log('smtp: command limit reached', { session: conn.session.id }),
        !this.options.allowInsecureAuth);
      const timer = setTimeout(() => {
        this.log('smtp: connection lifetime reached', { session: conn.session.id });
        conn.send(421, '4.4.2 Connection open too long, closing');
      }, this.limits.maxConnectionMs);
      timer.unref();
      this.lifetimers.set(conn.session, timer);
    }
  }

  override onClose(session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    const timer = this.lifetimers.get(session);
    if (timer) { clearTimeout(timer); this.lifetimers.delete(session); }
    this.onSessionClose(session);
    callback();
  }
}

function listen(server: SMTPServer, at: HostPort, servers: SMTPServer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(new Error(`SMTP: cannot listen on ${at.host}:${at.port}: ${e.message}`));
    server.server.once('error', onError);
    server.listen(at.port, at.host, () => {
      server.server.off('error', onError);
      servers.push(server);
      resolve((server.server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
