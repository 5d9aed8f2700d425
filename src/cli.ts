#!/usr/bin/env node
// The `mailbeacon` command line (commander). A thin composition file: each subcommand lives in
// src/cli/<name>.ts and is added by its register function. Usage errors exit with code 2.

import { Command, CommanderError } from 'commander';
import { registerInject } from './cli/inject.js';
import { registerServe } from './cli/serve.js';
import { registerKeys } from './cli/keys.js';
import { registerIdentities } from './cli/identities.js';
import { registerMessages } from './cli/messages.js';
import { registerEvents } from './cli/events.js';

const program = new Command('mailbeacon').description('self-hosted SES v2 / Postbox-compatible email gateway that tracks opens');
// Before any register call: subcommands copy this setting when they are created.
program.exitOverride();
registerServe(program);
registerKeys(program);
registerIdentities(program);
registerMessages(program);
registerEvents(program);
registerInject(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  // commander has already printed the message; --help and --version end with 0
  process.exitCode = err.exitCode === 0 ? 0 : 2;
}
