#!/usr/bin/env node
// The commander program: every command a user runs. Each group of commands lives in its own
// module under src/commands and registers itself here; this file only maps failures to one line
// and an exit code (see src/errors.ts for the codes).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { EXIT, isParleyError } from './errors.js';
import { registerCommands } from './commands/index.js';
import { homeOf } from './commands/common.js';
import { openUi } from './commands/ui.js';
import { runWithIo, stderr, stdout, type CommandIo } from './commands/io.js';
import { isForwarded } from './node/control.js';

export function buildProgram(): Command {
  const program = new Command('parley');
  program
    .description('Parley: a messenger, computer to computer over sockets')
    .version('0.1.0')
    .enablePositionalOptions()
    .option('--home <dir>', 'profile directory (default: PARLEY_HOME or the per-user default)')
    .showHelpAfterError(false);
  registerCommands(program, { runInClient });
  // `parley` alone opens the screen (commands/ui.ts); a word that is no command stays an error.
  // With an action of its own, commander would drop the implicit `parley help`: kept.
  program.helpCommand(true).allowExcessArguments(true).action(async (_opts: unknown, cmd: Command) => {
    if (cmd.args.length > 0) program.error(`error: unknown command '${cmd.args[0]}'`, { code: 'commander.unknownCommand', exitCode: EXIT.USAGE });
    process.exitCode = await openUi({ home: homeOf(cmd), cwd: process.cwd(), runInClient });
  });
  // The program and every subcommand: their usage errors come back to main() as one line.
  applyOverride(program);
  return program;
}

function applyOverride(cmd: Command): void {
  cmd.exitOverride();
  // `contacts --json` and `contacts add --json`: an option after a subcommand's name belongs to
  // the subcommand, even where the parent declares it too.
  if (cmd.commands.length > 0) cmd.enablePositionalOptions();
  cmd.configureOutput({
    writeOut: (text) => stdout().write(text),
    writeErr: (text) => stderr().write(text),
    outputError: (text, write) => write(text.split('\n')[0] + '\n'),
  });
  for (const sub of cmd.commands) applyOverride(sub);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    return reportFailure(err);
  }
}

// A command line sent to the running client (src/node/control.ts), run there on its profile with
// the caller's streams: the same program, the same output, the same exit code.
export function runInClient(client: NonNullable<CommandIo['client']>, argv: string[], io: Omit<CommandIo, 'client'>): Promise<number> {
  return runWithIo({ ...io, client }, () => main(['node', 'parley', ...argv]));
}

function reportFailure(err: unknown): number {
  // Run by the client: its output is written already.
  if (isForwarded(err)) return err.forwardedExit;
  if (err instanceof CommanderError) {
    // Help and version end with a zero code; every other usage error is bad input.
    if (err.exitCode === 0) return EXIT.OK;
    return EXIT.USAGE;
  }
  if (isParleyError(err)) {
    stderr().write(`parley: ${err.message}\n`);
    // Exit 1 is a failure nobody planned for (a store that cannot be opened, a write that
    // failed): keep what a developer needs to look into it.
    if (err.exitCode === EXIT.BUG) writeCrashLog(errorDetail(err));
    return err.exitCode;
  }
  // A stack trace is a bug: say so, keep the trace out of the user's way.
  stderr().write(`parley: unexpected failure (a bug): ${err instanceof Error ? err.message : String(err)}\n`);
  writeCrashLog(errorDetail(err));
  return EXIT.BUG;
}

function errorDetail(err: unknown): string {
  let detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  let cause = err instanceof Error ? err.cause : undefined;
  while (cause !== undefined) {
    detail += `\ncaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return detail;
}

function writeCrashLog(detail: string): void {
  const file = path.join(os.tmpdir(), `parley-crash-${process.pid}.log`);
  try {
    fs.writeFileSync(file, `${new Date().toISOString()}\n${detail}\n`);
    stderr().write(`parley: details are in ${file}\n`);
  } catch {
    stderr().write(detail + '\n');
  }
}

// Starts the program on process.argv, as `node dist/src/cli.js` does and as the single executable's
// entry (scripts/package/entry.ts) does, which has no main module to compare with.
export function runAsProgram(): void {
  // The reader of the output went away: `parley journal inspect --json | head -1` (EPIPE), or
  // the terminal window was closed (EIO, sometimes EPIPE). Neither is a failure. A command that
  // runs until a signal (up, console, demo) is told as by the SIGHUP of a closed window, so that
  // it stops the clean way (clients closed, chats not kept cleared, sockets removed), which an
  // exit here would cut short; any other command just ends. EIO never exits: it comes from a
  // closed terminal, whose SIGHUP stops such a command, and a write while it stops must not
  // cut the stop short.
  const outputGone = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE' && err.code !== 'EIO') throw err;
    if (process.listenerCount('SIGHUP') > 0) process.emit('SIGHUP', 'SIGHUP');
    else if (err.code === 'EPIPE') process.exit(EXIT.OK);
  };
  process.stdout.on('error', outputGone);
  process.stderr.on('error', outputGone);
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}

// Run only when started as a program, not when imported by a test.
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) runAsProgram();
