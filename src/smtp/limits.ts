// Every bound the SMTP submission listener enforces, with the threat it stops. Message size
// and recipient count come from config (same limits as the API); the rest are fixed here.

/** Concurrent connections per listener: a flood of idle sockets cannot exhaust file descriptors. */
export const MAX_CLIENTS = 500;
/** Idle time before a 421: a client that stops talking releases its slot. */
export const IDLE_TIMEOUT_MS = 60_000;
/** Total life of one connection: a slow drip of bytes (slowloris) cannot hold a slot forever. */
export const MAX_CONNECTION_MS = 30 * 60_000;
/** Replies (≈ commands) per connection: one client cannot loop on RSET/NOOP forever. */
export const MAX_COMMANDS_PER_CONNECTION = 20_000;
/** Messages per connection: a pooled client reconnects now and then, spreading load. */
export const MAX_MESSAGES_PER_CONNECTION = 1_000;
/** Commands before AUTH succeeds (EHLO, STARTTLS, EHLO, AUTH fit easily): stops probing. */
export const MAX_UNAUTHENTICATED_COMMANDS = 10;
/** Failed AUTH attempts per connection before 421: password guessing needs new connections. */
export const MAX_AUTH_FAILURES = 3;
/** One command line (RFC 5321 says 512; AUTH PLAIN tokens need more): a 1 MB line is cut off. */
export const MAX_COMMAND_LINE = 4096;
/** How long close() lets in-flight transactions finish before dropping them (they were not acknowledged). */
export const CLOSE_GRACE_MS = 5_000;
