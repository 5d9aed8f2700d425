// Every bound the MIME code enforces, with the threat it stops. The injector reads
// untrusted bytes from any client; each loop below is capped by one of these so that
// hostile input costs at most linear time and bounded memory, and is skipped, never thrown.

/** Default largest message we rewrite (10 MiB). Stops: memory/CPU blow-up from huge bodies; larger mail is relayed unchanged. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** Deepest multipart nesting we follow. Stops: 10,000-deep nesting driving recursion and rescans (each level rescans its span once). */
export const MAX_DEPTH = 32;

/** Most body parts visited in one message. Stops: millions of empty parts turning one walk into a long CPU burn. */
export const MAX_PARTS = 2000;

/** Largest header block of the message or of one part (256 KiB). Stops: 1 MB header lines or endless header blocks; beyond it the structure is untrusted. */
export const MAX_HEADER_BYTES = 256 * 1024;

/** Most header fields read from one header block. Stops: millions of tiny fields allocating an object each. */
export const MAX_HEADER_FIELDS = 2000;

/** Longest multipart boundary we accept (RFC 2046 allows 70; we tolerate more). Stops: pathological boundaries making each delimiter check expensive. */
export const MAX_BOUNDARY_LENGTH = 200;

/** RFC 5322 2.1.1: a line must not exceed 998 octets (excluding CRLF) in 7bit/8bit bodies. */
export const MAX_LINE_OCTETS = 998;

/** RFC 2045 6.7/6.8: encoded lines of quoted-printable and base64 must not exceed 76 characters. */
export const MAX_ENCODED_LINE = 76;
