// Every command group registers itself here, in the order `parley --help` lists them.
import type { Command } from 'commander';

export function registerCommands(program: Command): void {
  void program;
}
