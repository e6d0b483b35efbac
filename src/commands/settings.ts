// parley settings [--json]; parley settings set KEY VALUE
import fs from 'node:fs';
import type { Command } from 'commander';
import { badInput } from '../errors.js';
import type { Profile } from '../node/profile.js';
import { decideSetting, parseSetting, SETTING_KEYS, settingsOf, settingValuesHelp, shownSettings, type SettingsState } from '../projections/settings.js';
import { clientProfile, resolvePath } from './io.js';
import { homeOf, printJson, printLine, profileOptions, withProfile } from './common.js';

// Every key with its value, defaults included: one JSON object, or one `key value` line each.
function printSettings(state: SettingsState, home: string, json: boolean | undefined): void {
  const shown = shownSettings(settingsOf(state), home);
  if (json) printJson(shown);
  else for (const key of SETTING_KEYS) printLine(`${key} ${shown[key]}`);
}

// The profile's folder, where the default downloads folder is. Not `profile.home` alone: a
// command that only reads runs on an empty profile in the temp folder when there is none yet
// (common.ts, withProfile), and the default shown is the one the profile will have.
function homeFor(cmd: Command, profile: Profile): string {
  return clientProfile() ? profile.home : homeOf(cmd);
}

export function registerSettingsCommands(program: Command): void {
  const settings = profileOptions(program.command('settings').description('list the settings, or set one'))
    .option('--json', 'one JSON object')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withProfile(cmd, async (profile) => printSettings(profile.views.settings, homeFor(cmd, profile), opts.json), { readOnly: true });
    });

  profileOptions(
    settings
      .command('set')
      .description('set one setting')
      .argument('<key>', SETTING_KEYS.join(', '))
      .argument('<value>', settingValuesHelp()),
  )
    .option('--json', 'print all the settings as JSON')
    .action(async (keyText: string, valueText: string, opts: { json?: boolean }, cmd: Command) => {
      // Checked before the profile is opened: a typo never creates or touches a profile. A
      // relative folder is the caller's, and journaled absolute.
      const { key, value } = parseSetting(keyText, valueText, resolvePath);
      // A folder that is missing is made when a file is first written there (node/downloads.ts);
      // a file in its place will never do.
      if (key === 'downloads' && fs.existsSync(value as string) && !fs.statSync(value as string).isDirectory()) {
        throw badInput('NOT_A_FOLDER', `${value as string} is a file, not a folder: choose another downloads folder`);
      }
      await withProfile(cmd, async (profile) => {
        const change = decideSetting(profile.views.settings, key, value);
        if (change) await profile.append(change);
        const shown = shownSettings(settingsOf(profile.views.settings), profile.home)[key];
        if (opts.json) printSettings(profile.views.settings, profile.home, true);
        else printLine(change ? `${key} is now ${shown}` : `${key} is ${shown} already`);
      });
    });
}
