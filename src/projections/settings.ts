// Settings: the last value given to each key (language, download folder, ...).
import type { Stored } from '../events/types.js';
import type { Projection } from './projection.js';

export type SettingsState = Record<string, string | number | boolean>;

export const settings: Projection<SettingsState> = {
  name: 'settings',
  version: 1,
  initial: () => ({}),
  apply(state, event: Stored) {
    if (event.type === 'settings.changed') state[event.key] = event.value;
    return state;
  },
};
