// Mailbox simulator addresses (Postbox / SES "mailbox simulator"): mail to them is never
// relayed; the worker answers as the named scenario would. Recognised domains: our own
// simulator.mailbeacon.local plus Postbox's and SES's simulator domains, so client test
// suites written against either service run unchanged. "+label" suffixes are ignored.

export type SimulatorScenario = 'success' | 'bounce' | 'delay' | 'suppressed';

const DOMAINS = new Set(['simulator.mailbeacon.local', 'simulator.postbox.yandexcloud.net', 'simulator.amazonses.com']);

/** The scenario for a recipient, or null when it is an ordinary address. */
export function simulatorScenario(recipient: string): SimulatorScenario | null {
  const at = recipient.lastIndexOf('@');
  if (at < 0) return null;
  if (!DOMAINS.has(recipient.slice(at + 1).toLowerCase())) return null;
  const local = recipient.slice(0, at).toLowerCase().split('+')[0];
  switch (local) {
    case 'bounce': return 'bounce';
    case 'delay': return 'delay';
    case 'suppressionlist':
    case 'suppressed': return 'suppressed';
    // success@, and scenarios we do not model (complaint@, ooto@), are delivered.
    default: return 'success';
  }
}
