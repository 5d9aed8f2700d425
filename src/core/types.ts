// The contract of the send pipeline shared by the API and SMTP front ends: both hand a
// complete MIME message plus its envelope to a Submitter, which decides tracking, injects
// the pixel, stores the message durably and returns its MessageId. Front ends do their own
// auth and shape checks; the Submitter enforces identity, configuration set, size and
// recipient rules and throws GatewayError (src/errors.ts) for anything the client must see.

export interface SubmitRequest {
  /** The whole message as the client sent it (API: Raw, or composed from Simple/Template). */
  raw: Buffer;
  /** Envelope sender. API: FromEmailAddress (or the Raw From); SMTP: MAIL FROM. */
  mailFrom: string;
  /** Envelope recipients (To + Cc + Bcc, or RCPT TO). Their count decides tracking. */
  recipients: string[];
  /** ConfigurationSetName from the API body; the X-Ses-Configuration-Set header wins. */
  configSetName?: string | null;
  /** EmailTags from the API ({Name, Value}); also X-SES-MESSAGE-TAGS header. */
  tags?: { Name: string; Value: string }[];
  /** Access key id of the caller (for mail.tags "ses:caller-identity"). */
  callerIdentity?: string;
  via: 'api' | 'smtp';
}

export interface SubmitResult {
  messageId: string;
  tracked: boolean;
  /** 'injected', a mime SkipReason, or why tracking was not attempted ('no-open-subscription', 'multiple-recipients'). */
  injectOutcome: string;
}

export interface Submitter {
  /** Resolves only after the message is durable in the store. Throws GatewayError. */
  submit(req: SubmitRequest): Promise<SubmitResult>;
  /** The identity that authorises sending from this address, if any (SMTP checks MAIL FROM early). */
  findIdentity(address: string): Promise<string | undefined>;
}

/** Builds the pixel URL for a message (tracking/tokens supplies it; core never sees keys). */
export type PixelUrlFor = (messageId: string) => string;
