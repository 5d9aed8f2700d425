// A real upstream SMTP server for tests (smtp-server): accepts everything and keeps each
// delivered message's envelope recipients and raw bytes, as the relay handed them over.
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface Received { to: string[]; raw: Buffer }

export interface SmtpSink {
  port: number;
  received: Received[];
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const received: Received[] = [];
  const sink = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        cb();
      });
    },
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  return {
    port: (sink.server.address() as AddressInfo).port,
    received,
    close: () => new Promise<void>((r) => sink.close(() => r())),
  };
}
