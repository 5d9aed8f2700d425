// `mailbeacon serve`: runs every role in one process on the configured store (SQLite in
// MAILBEACON_DATA_DIR by default) until SIGINT/SIGTERM, then drains and exits.
import type { Command } from 'commander';
import { loadConfig, ConfigError } from '../config.js';
import { createLogger } from '../log.js';
import { startGateway } from '../server.js';

export function registerServe(program: Command): void {
  program.command('serve')
    .description('run the API, pixel server, SMTP submission, delivery and notification workers')
    .action(async () => {
      let config;
      try {
        config = loadConfig();
      } catch (e) {
        process.stderr.write(`mailbeacon: ${(e as Error).message}\n`);
        process.exitCode = e instanceof ConfigError ? 2 : 1;
        return;
      }
      const log = createLogger();
      let gw;
      try {
        gw = await startGateway(config, log);
      } catch (e) {
        // e.g. EADDRINUSE: say which listener, no stack.
        process.stderr.write(`mailbeacon: cannot start: ${(e as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      log('mailbeacon started', {
        api: gw.apiUrl, tracking: gw.trackingUrl, trackingBaseUrl: config.trackingBaseUrl,
        smtp: gw.smtpPort, smtps: gw.smtpsPort, dataDir: config.dataDir,
        relay: config.relayUrl ? redact(config.relayUrl) : 'none: capturing mail (mailbeacon messages list)',
      });
      // Machine-readable line for scripts and tests that start the server on port 0.
      process.stdout.write(JSON.stringify({ ready: true, api: gw.apiUrl, tracking: gw.trackingUrl, smtp: gw.smtpPort, smtps: gw.smtpsPort }) + '\n');
      if (gw.firstStart) process.stderr.write(welcome(gw.apiUrl, config.dataDir));

      let stopping = false;
      const stop = async (signal: string): Promise<void> => {
        if (stopping) return;
        stopping = true;
        log('stopping', { signal });
        await gw.close();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

function welcome(apiUrl: string, dataDir: string): string {
  return `
  Welcome to mailbeacon. This is a new data directory (${dataDir}).
  The SES v2-compatible API listens on ${apiUrl}. Next steps:
    1. Create credentials:   ./mailbeacon keys create --name my-app
    2. Allow a sender:       ./mailbeacon identities add example.com
    3. Send with the AWS SDK or CLI, endpoint ${apiUrl}
       (aws sesv2 send-email --endpoint-url ${apiUrl} ...)
    4. Read what was sent:   ./mailbeacon messages list
  The README's walkthrough ("Quick start") shows each step with its output.

`;
}
