// Every command group registers itself here, in the order `parley --help` lists them.
import type { Command } from 'commander';
import { registerCertCommands } from './cert.js';
import { registerContactsCommands } from './contacts.js';
import { registerHistoryCommands } from './history.js';
import { registerJournalCommands } from './journal.js';
import { registerLimitsCommands } from './limits.js';
import { registerServerCommands } from './server.js';

export function registerCommands(program: Command): void {
  registerContactsCommands(program);
  registerHistoryCommands(program);
  registerLimitsCommands(program);
  registerJournalCommands(program);
  registerCertCommands(program);
  registerServerCommands(program);
}
