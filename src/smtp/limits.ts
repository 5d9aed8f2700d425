// Every bound the SMTP submission listener enforces, with the threat it stops. Message size
// and recipient count come from config (same limits as the API); the rest are fixed here.
// Tests pass smaller values through SmtpDeps.limits; production uses these defaults.

export interface SmtpLimits {
  /** Concurrent connections per listener: a flood of idle sockets cannot exhaust file descriptors. */
  maxClients: number;
  /** Idle time before a 421: a client that stops talking releases its slot. */
  idleTimeoutMs: number;
  /** Total life of one connection: a slow drip of bytes (slowloris) cannot hold a slot forever. */
  maxConnectionMs: number;
  /** Replies (≈ commands) per connection: one client cannot loop on RSET/NOOP forever. */
  maxCommandsPerConnection: number;
  /** Messages per connection: a pooled client reconnects now and then, spreading load. */
  maxMessagesPerConnection: number;
  /** Commands before AUTH succeeds (EHLO, STARTTLS, EHLO, AUTH fit easily): stops probing. */
  maxUnauthenticatedCommands: number;
  /** Failed AUTH attempts per connection before 421: password guessing needs new connections. */
  maxAuthFailures: number;
  /** One command line (RFC 5321 says 512; AUTH PLAIN tokens need more): a 1 MB line is cut off. */
  maxCommandLine: number;
  /** How long close() lets in-flight transactions finish before dropping them (they were not acknowledged). */
  closeGraceMs: number;
}

export const DEFAULT_LIMITS: Readonly<SmtpLimits> = Object.freeze({
  maxClients: 500,
  idleTimeoutMs: 60_000,
  maxConnectionMs: 30 * 60_000,
  maxCommandsPerConnection: 20_000,
  maxMessagesPerConnection: 1_000,
  maxUnauthenticatedCommands: 10,
  maxAuthFailures: 3,
  maxCommandLine: 4096,
  closeGraceMs: 5_000,
});

/** Merges overrides; a zero, negative or non-integer value is a bug, never "no limit". */
export function resolveLimits(overrides: Partial<SmtpLimits> = {}): SmtpLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`SMTP limit ${k} must be a positive whole number, got ${String(v)}`);
  }
  return limits;
}
