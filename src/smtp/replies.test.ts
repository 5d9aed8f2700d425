// Reply mapping: registry errors keep their code and client message; anything else becomes
// a generic temporary 451 that carries none of the internal detail.
import { describe, it, expect } from 'vitest';
import { GatewayError } from '../errors.js';
import { REPLY, replyFor, smtpError } from './replies.js';

describe('replyFor', () => {
  it('maps a GatewayError to its registry code and enhanced status', () => {
    const r = replyFor(new GatewayError('ConfigurationSetDoesNotExist', 'Configuration set x does not exist.'));
    expect(r.responseCode).toBe(554);
    expect(r.message).toBe('5.3.0 Configuration set x does not exist.');
    expect(replyFor(new GatewayError('MessageTooLarge')).message).toMatch(/^5\.3\.4 /);
    expect(replyFor(new GatewayError('TooManyRequests')).responseCode).toBe(451);
  });

  it('keeps a client message on one line', () => {
    expect(replyFor(new GatewayError('BadRequest', 'bad\r\n250 injected')).message).toBe('5.5.4 bad 250 injected');
  });

  it('answers anything else with a generic temporary error, no detail', () => {
    for (const e of [new Error('SQLITE_BUSY at /var/lib/mailbeacon/db'), 'string', undefined, { code: 'EIO' }]) {
      const r = replyFor(e);
      expect(r.responseCode).toBe(451);
      expect(r.message).toBe('4.3.0 Internal error; try again later.');
    }
  });

  it('builds fixed replies', () => {
    expect(smtpError(550, '5.7.1', 'x')).toMatchObject({ responseCode: 550, message: '5.7.1 x' });
    expect(REPLY.messageTooBig(1024).message).toBe('5.3.4 Message too big (the limit is 1024 bytes)');
    expect(REPLY.senderNotAllowed('').message).toMatch(/<>/);
  });
});
