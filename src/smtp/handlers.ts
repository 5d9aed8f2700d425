// The submission session rules (RFC 6409 / RFC 4954 on top of smtp-server): who may
// authenticate, who may send, and when a message counts as accepted. The protocol itself
// (parsing, pipelining, STARTTLS, SASL framing) is smtp-server's; this file only decides.
// Trusts nothing from the client; trusts the store for keys and the Submitter for the
// identity/configuration-set/limit rules and for durability ("queued" only after submit resolves).
import type { SMTPServerAuthentication, SMTPServerAuthenticationResponse, SMTPServerAddress,
  SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Config } from '../config.js';
import type { Submitter } from '../core/types.js';
import type { Store } from '../store/port.js';
import type { SmtpLimits } from './limits.js';
import { verifySesSmtpPassword } from './password.js';
import { REPLY, replyFor, type SmtpReplyError } from './replies.js';
import type { SmtpLog } from './tls-material.js';

export interface HandlerDeps {
  store: Store;
  submitter: Submitter;
  config: Pick<Config, 'smtpRegions' | 'maxMessageBytes'>;
  log: SmtpLog;
  limits: Pick<SmtpLimits, 'maxAuthFailures' | 'maxMessagesPerConnection'>;
  onAccepted?: () => void;
}

/** What a successful AUTH leaves on session.user. */
export interface SmtpUser { keyId: string }

type Done = (err?: Error | null) => void;

// A secret nobody holds: unknown key ids are checked against it, so an unknown id and a
// wrong password take the same time and give the same reply (no key-id enumeration).
const DUMMY_SECRET = 'mailbeacon-no-such-key-'.padEnd(40, 'x');

export function createHandlers(deps: HandlerDeps) {
  const { store, submitter, config, log, limits } = deps;
  const authFailures = new WeakMap<SMTPServerSession, number>();

  async function authenticate(auth: SMTPServerAuthentication): Promise<SmtpUser | undefined> {
    if (auth.method !== 'PLAIN' && auth.method !== 'LOGIN') return undefined;
    const username = auth.username ?? '';
    // RFC 4616: acting as another identity (authzid) is not something we offer.
    if (auth.method === 'PLAIN' && auth.authzid && auth.authcid && auth.authzid !== auth.authcid) return undefined;
    const password = typeof auth.password === 'string' ? auth.password : '';
    const key = username && username.length <= 128 ? await store.getAccessKey(username) : undefined;
    const usable = key !== undefined && key.revokedAt === null;
    const ok = verifySesSmtpPassword(password, usable ? key.secret : DUMMY_SECRET, config.smtpRegions);
    return ok && usable ? { keyId: key.id } : undefined;
  }

  return {
    onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession,
      done: (err: Error | null | undefined, res?: SMTPServerAuthenticationResponse) => void): void {
      authenticate(auth).then((user) => {
        if (user) {
          log('smtp: authenticated', { session: session.id, keyId: user.keyId, method: auth.method, remote: session.remoteAddress });
          return done(null, { user });
        }
        const failures = (authFailures.get(session) ?? 0) + 1;
        authFailures.set(session, failures);
        // The username is an access key id (public); the password is never logged.
        log('smtp: authentication failed', { session: session.id, remote: session.remoteAddress, failures });
        done(failures >= limits.maxAuthFailures ? REPLY.tooManyAuthFailures() : REPLY.authFailed());
      }, (e: unknown) => {
        log('smtp: authentication error', { session: session.id, error: (e as Error).message });
        done(REPLY.internal());
      });
    },

    onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, done: Done): void {
      // smtp-server refuses MAIL before AUTH itself (530); this is the second lock on the door.
      if (!session.user) return done(Object.assign(new Error('5.7.0 Authentication required'), { responseCode: 530 }));
      if (session.transaction > limits.maxMessagesPerConnection) return done(REPLY.tooManyMessages());
      const from = address.address;
      if (!from) return done(REPLY.senderNotAllowed(''));
      submitter.findIdentity(from).then(
        (identity) => done(identity ? null : REPLY.senderNotAllowed(from)),
        (e: unknown) => {
          log('smtp: identity lookup failed', { session: session.id, error: (e as Error).message });
          done(REPLY.internal());
        });
    },

    onData(stream: SMTPServerDataStream, session: SMTPServerSession, done: (err?: Error | null, message?: string) => void): void {
      const user = session.user as SmtpUser | undefined;
      const limit = config.maxMessageBytes;
      readMessage(stream, limit).then(async (raw) => {
        if (!user || !session.envelope.mailFrom) return done(Object.assign(new Error('5.7.0 Authentication required'), { responseCode: 530 }));
        if (raw === 'too-big' || stream.sizeExceeded) return done(REPLY.messageTooBig(limit));
        let result;
        try {
          result = await submitter.submit({
            raw,
            mailFrom: session.envelope.mailFrom.address,
            recipients: session.envelope.rcptTo.map((r) => r.address),
            callerIdentity: user.keyId,
            via: 'smtp',
          });
        } catch (e) {
          const reply: SmtpReplyError = replyFor(e);
          log('smtp: message refused', { session: session.id, keyId: user.keyId, reply: `${reply.responseCode} ${reply.message}`,
            ...(reply.responseCode >= 500 ? {} : { error: (e as Error).message }) });
          return done(reply);
        }
        log('smtp: message queued', { session: session.id, keyId: user.keyId, messageId: result.messageId,
          recipients: session.envelope.rcptTo.length, bytes: raw.length, tracked: result.tracked, injectOutcome: result.injectOutcome });
        try { deps.onAccepted?.(); } catch (e) { log('smtp: onAccepted failed', { error: (e as Error).message }); }
        done(null, `OK: queued as ${result.messageId}`);
      }).catch((e: unknown) => {
        // The client went away mid-DATA (or the stream broke): nothing was submitted.
        log('smtp: message not received in full', { session: session.id, error: (e as Error).message });
        done(REPLY.incomplete());
      });
    },

    onClose(session: SMTPServerSession): void {
      authFailures.delete(session);
    },
  };
}

/**
 * Reads the whole DATA stream. Bytes past `limit` are drained but not kept, so an oversized
 * message costs no memory; resolves 'too-big' then. Rejects when the stream ends early
 * (connection dropped), so a truncated message is never submitted.
 */
function readMessage(stream: SMTPServerDataStream, limit: number): Promise<Buffer | 'too-big'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    let ended = false;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) { over = true; chunks.length = 0; return; }
      chunks.push(chunk);
    });
    stream.once('end', () => { ended = true; resolve(over ? 'too-big' : Buffer.concat(chunks, size)); });
    stream.once('error', (e: Error) => reject(e));
    stream.once('close', () => { if (!ended) reject(new Error('connection closed before the end of DATA')); });
  });
}
