// parley settings [--json]; parley settings set KEY VALUE
import type { Command } from 'commander';
import { decideSetting, parseSetting, SETTING_KEYS, settingsOf, settingValuesHelp, shownSettings, type SettingsState } from '../projections/settings.js';
import { printJson, printLine, profileOptions, withProfile } from './common.js';

// Every key with its value, defaults included: one JSON object, or one `key value` line each.
function printSettings(state: SettingsState, json: boolean | undefined): void {
  const shown = shownSettings(settingsOf(state));
  if (json) printJson(shown);
  else for (const key of SETTING_KEYS) printLine(`${key} ${shown[key]}`);
}

export function registerSettingsCommands(program: Command): void {
  const settings = profileOptions(program.command('settings').description('list the settings, or set one'))
    .option('--json', 'one JSON object')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withProfile(cmd, async (profile) => printSettings(profile.views.settings, opts.json), { readOnly: true });
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
      // Checked before the profile is opened: a typo never creates or touches a profile.
      const { key, value } = parseSetting(keyText, valueText);
      await withProfile(cmd, async (profile) => {
        const change = decideSetting(profile.views.settings, key, value);
        if (change) await profile.append(change);
        const shown = shownSettings(settingsOf(profile.views.settings))[key];
        if (opts.json) printSettings(profile.views.settings, true);
        else printLine(change ? `${key} is now ${shown}` : `${key} is ${shown} already`);
      });
    });
}
