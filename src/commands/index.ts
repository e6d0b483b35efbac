// Every command group registers itself here, in the order `parley --help` lists them.
import type { Command } from 'commander';
import { registerCertCommands } from './cert.js';
import { registerClientCommands, type RunInClient } from './client.js';
import { registerConsoleCommands } from './console.js';
import { registerContactsCommands } from './contacts.js';
import { registerDemoCommands } from './demo.js';
import { registerHistoryCommands } from './history.js';
import { registerInviteCommands } from './invite.js';
import { registerJournalCommands } from './journal.js';
import { registerLimitsCommands } from './limits.js';
import { registerMessageCommands } from './messages.js';
import { registerSendFileCommand } from './send-file.js';
import { registerServerCommands } from './server.js';
import { registerSettingsCommands } from './settings.js';
import { registerTransferCommands } from './transfers.js';

export function registerCommands(program: Command, options: { runInClient: RunInClient }): void {
  registerClientCommands(program, options.runInClient);
  registerConsoleCommands(program, options.runInClient);
  registerInviteCommands(program);
  registerContactsCommands(program);
  registerMessageCommands(program);
  registerSendFileCommand(program);
  registerTransferCommands(program);
  registerHistoryCommands(program);
  registerLimitsCommands(program);
  registerSettingsCommands(program);
  registerJournalCommands(program);
  registerCertCommands(program);
  registerServerCommands(program);
  registerDemoCommands(program, options.runInClient);
}
