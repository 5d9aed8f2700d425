import { describe, it, expect } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, ConfigError, parseDuration } from './config.js';

describe('config', () => {
  it('has working defaults for the embedded quick start', () => {
    const c = loadConfig({});
    expect(c.apiListen).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(c.trackingListen).toEqual({ host: '0.0.0.0', port: 8788 });
    expect(c.trackingBaseUrl).toBe('http://localhost:8788');
    expect(c.relayUrl).toBeNull();
    expect(c.maxMessageBytes).toBe(10 * 1024 * 1024);
    expect(c.maxRecipients).toBe(50);
    expect(c.deliveryMaxAgeMs).toBe(24 * 3600_000);
    expect(c.notificationMaxAgeMs).toBe(3 * 24 * 3600_000);
    expect(c.smtpListen).toEqual({ host: '127.0.0.1', port: 2587 });
    expect(c.smtpsListen).toEqual({ host: '127.0.0.1', port: 2465 });
    expect(c.sqliteSynchronous).toBe('NORMAL');
    expect(loadConfig({ MAILBEACON_SQLITE_SYNCHRONOUS: 'full' }).sqliteSynchronous).toBe('FULL');
  });

  it.each([
    ['MAILBEACON_API_LISTEN', '8787', /host:port/],
    ['MAILBEACON_API_LISTEN', 'localhost:99999', /host:port/],
    ['MAILBEACON_TRACKING_BASE_URL', 'ftp://x', /http/],
    ['MAILBEACON_TRACKING_BASE_URL', 'not a url', /not a URL/],
    ['MAILBEACON_RELAY_URL', 'http://smtp.example.com', /smtp:\/\/ or smtps/],
    ['MAILBEACON_MAX_RECIPIENTS', '0', /between/],
    ['MAILBEACON_MAX_RECIPIENTS', 'NaN', /whole number/],
    ['MAILBEACON_MAX_MESSAGE_BYTES', '10MB', /whole number/],
    ['MAILBEACON_DELIVERY_MAX_AGE', '0', /greater than zero/],
    ['MAILBEACON_DELIVERY_MAX_AGE', '24 hours', /duration/],
    ['MAILBEACON_ALLOW_PRIVATE_WEBHOOKS', 'yes please', /true or false/],
    ['MAILBEACON_MAX_SEND_RATE', '0', /greater than zero/],
    ['MAILBEACON_MAX_SEND_RATE', '14/s', /greater than zero/],
    ['MAILBEACON_SEND_BURST', '5', /MAILBEACON_MAX_SEND_RATE too/],
    ['MAILBEACON_SQLITE_SYNCHRONOUS', 'OFF', /NORMAL .* or FULL/],
  ])('refuses %s=%s with a message naming the variable', (name, value, re) => {
    let err: unknown;
    try { loadConfig({ [name]: value }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(name);
    expect((err as Error).message).toMatch(re);
  });

  it('never echoes the relay password in an error', () => {
    expect(() => loadConfig({ MAILBEACON_RELAY_URL: 'smtp://u:s3cret@:0' })).toThrow(ConfigError);
    try { loadConfig({ MAILBEACON_RELAY_URL: 'smtp://u:s3cret@:0' }); } catch (e) { expect((e as Error).message).not.toContain('s3cret'); }
  });

  it('reads a config file; the environment wins; unknown keys are refused', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mb-config-'));
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ MAILBEACON_API_LISTEN: '0.0.0.0:9000', MAILBEACON_MAX_RECIPIENTS: 5 }));
    const c = loadConfig({ MAILBEACON_CONFIG: file, MAILBEACON_MAX_RECIPIENTS: '7' });
    expect(c.apiListen).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(c.maxRecipients).toBe(7);
    writeFileSync(file, JSON.stringify({ MAILBEACON_API_LISTN: 'x' }));
    expect(() => loadConfig({ MAILBEACON_CONFIG: file })).toThrow(/unknown setting "MAILBEACON_API_LISTN"/);
    writeFileSync(file, '{oops');
    expect(() => loadConfig({ MAILBEACON_CONFIG: file })).toThrow(/cannot read/);
  });

  it('reads the per-key send rate; unset means no limit', () => {
    expect(loadConfig({}).sendRate).toBeNull();
    expect(loadConfig({ MAILBEACON_MAX_SEND_RATE: '14' }).sendRate).toEqual({ perSecond: 14, burst: 14 });
    expect(loadConfig({ MAILBEACON_MAX_SEND_RATE: '0.5', MAILBEACON_SEND_BURST: '3' }).sendRate).toEqual({ perSecond: 0.5, burst: 3 });
    expect(loadConfig({ MAILBEACON_MAX_SEND_RATE: '0.5' }).sendRate).toEqual({ perSecond: 0.5, burst: 1 });
  });

  it('parses durations', () => {
    expect(parseDuration('X', '90s', 1)).toBe(90_000);
    expect(parseDuration('X', '3d', 1)).toBe(3 * 86_400_000);
    expect(parseDuration('X', '250', 1)).toBe(250);
    expect(parseDuration('X', undefined, 42)).toBe(42);
  });
});
