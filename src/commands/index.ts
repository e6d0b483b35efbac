// Every command group registers itself here, in the order `parley --help` lists them.
import type { Command } from 'commander';
import { registerCertCommands } from './cert.js';

export function registerCommands(program: Command): void {
  registerCertCommands(program);
  void program;
}
