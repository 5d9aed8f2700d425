import { describe, it, expect } from 'vitest';
import { classifyOpen } from './open-client.js';
import { renderEvent } from './model.js';

describe('open client classification', () => {
  it.each([
    ['Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)', false, 'gmail', 'Gmail'],
    ['YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html', false, 'yahoo', 'Yahoo Mail'],
    ['Mozilla/5.0', true, 'apple', 'Apple Mail'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)', false, null, 'Safari'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', false, null, 'Chrome'],
    ['Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)', false, null, 'Microsoft Office'],
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', true, null, 'Googlebot'],
    ['', true, null, null],
  ])('%s -> machine %s, proxy %s, client %s', (ua, machine, proxy, name) => {
    const c = classifyOpen(ua);
    expect(c.machineOpen).toBe(machine);
    expect(c.proxy).toBe(proxy);
    expect(c.client.name).toBe(name);
  });

  it('adds the reading to Open notifications only, keeping Postbox fields', () => {
    const open = renderEvent({ kind: 'Open', at: 1, messageId: 'm', seq: 2, eventId: 'm:2', detail: { ipAddress: '192.0.2.1', timestamp: 't', userAgent: 'Mozilla/5.0' } }, {});
    expect(open.open).toEqual({ ipAddress: '192.0.2.1', timestamp: 't', userAgent: 'Mozilla/5.0', machineOpen: true, proxy: 'apple', client: { name: 'Apple Mail', os: null, deviceType: null } });
    const send = renderEvent({ kind: 'Send', at: 1, messageId: 'm', seq: 1, eventId: 'm:1', detail: {} }, {});
    expect(send.send).toEqual({});
  });
});
