// One registry of every failure a client can see, in each interface's own shape:
// the SES v2 error (HTTP status + {"Code","message"} + x-amzn-ErrorType) and the SMTP
// reply (code + RFC 3463 enhanced status). `temporary` says whether a retry may succeed.
// README's error table is checked against this registry by errors.test.ts.

export interface ErrorSpec {
  /** SES v2 error code: the AWS SDK raises the exception class of this name. */
  sesCode: string;
  httpStatus: number;
  smtp: { code: number; enhanced: string };
  temporary: boolean;
  /** Default message; callers may give a more precise one. Never contains secrets or internals. */
  message: string;
}

export const ERRORS = {
  BadRequest: { sesCode: 'BadRequestException', httpStatus: 400, smtp: { code: 501, enhanced: '5.5.4' }, temporary: false, message: 'The request is not valid.' },
  NotFound: { sesCode: 'NotFoundException', httpStatus: 404, smtp: { code: 550, enhanced: '5.1.0' }, temporary: false, message: 'The resource does not exist.' },
  AlreadyExists: { sesCode: 'AlreadyExistsException', httpStatus: 400, smtp: { code: 550, enhanced: '5.0.0' }, temporary: false, message: 'The resource already exists.' },
  ConfigurationSetDoesNotExist: { sesCode: 'NotFoundException', httpStatus: 404, smtp: { code: 554, enhanced: '5.3.0' }, temporary: false, message: 'Configuration set does not exist.' },
  MessageRejected: { sesCode: 'MessageRejected', httpStatus: 400, smtp: { code: 554, enhanced: '5.6.0' }, temporary: false, message: 'Message rejected.' },
  MailFromDomainNotVerified: { sesCode: 'MailFromDomainNotVerifiedException', httpStatus: 400, smtp: { code: 550, enhanced: '5.7.1' }, temporary: false, message: 'Sender identity is not verified.' },
  MessageTooLarge: { sesCode: 'MessageRejected', httpStatus: 400, smtp: { code: 552, enhanced: '5.3.4' }, temporary: false, message: 'Message is too large.' },
  TooManyRecipients: { sesCode: 'MessageRejected', httpStatus: 400, smtp: { code: 452, enhanced: '4.5.3' }, temporary: false, message: 'Too many recipients.' },
  NoRecipients: { sesCode: 'BadRequestException', httpStatus: 400, smtp: { code: 554, enhanced: '5.5.1' }, temporary: false, message: 'No recipients.' },
  InvalidSignature: { sesCode: 'SignatureDoesNotMatch', httpStatus: 403, smtp: { code: 535, enhanced: '5.7.8' }, temporary: false, message: 'The request signature we calculated does not match the signature you provided.' },
  UnknownAccessKey: { sesCode: 'UnrecognizedClientException', httpStatus: 403, smtp: { code: 535, enhanced: '5.7.8' }, temporary: false, message: 'The security token included in the request is invalid.' },
  MissingAuthentication: { sesCode: 'MissingAuthenticationTokenException', httpStatus: 403, smtp: { code: 530, enhanced: '5.7.0' }, temporary: false, message: 'Request is missing Authentication Token.' },
  RequestExpired: { sesCode: 'InvalidSignatureException', httpStatus: 403, smtp: { code: 535, enhanced: '5.7.8' }, temporary: false, message: 'Signature expired: X-Amz-Date is more than 15 minutes from the server time.' },
  PayloadTooLarge: { sesCode: 'BadRequestException', httpStatus: 413, smtp: { code: 552, enhanced: '5.3.4' }, temporary: false, message: 'Request body is too large.' },
  TooManyRequests: { sesCode: 'TooManyRequestsException', httpStatus: 429, smtp: { code: 451, enhanced: '4.3.2' }, temporary: true, message: 'Too many requests.' },
  SendingPaused: { sesCode: 'SendingPausedException', httpStatus: 400, smtp: { code: 554, enhanced: '5.7.1' }, temporary: false, message: 'Sending is disabled for this configuration set.' },
  UnknownOperation: { sesCode: 'UnknownOperationException', httpStatus: 404, smtp: { code: 502, enhanced: '5.5.1' }, temporary: false, message: 'Unknown operation.' },
  Internal: { sesCode: 'InternalFailure', httpStatus: 500, smtp: { code: 451, enhanced: '4.3.0' }, temporary: true, message: 'Internal error; try again later.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof ERRORS;

/** The one error type stages throw for client-visible failures. */
export class GatewayError extends Error {
  readonly spec: ErrorSpec;
  constructor(readonly kind: ErrorName, message?: string) {
    super(message ?? ERRORS[kind].message);
    this.name = 'GatewayError';
    this.spec = ERRORS[kind];
  }
}

export function isGatewayError(e: unknown): e is GatewayError {
  return e instanceof GatewayError;
}
