// The string catalogues, one file per language, and the one the UI speaks. A third language is
// one more file typed `Catalogue`, its word in LANGUAGES (projections/settings.ts), and its line
// below: the compiler names each place left to do.
import type { Language } from '../../projections/settings.js';
import { en } from './en.js';
import { ru } from './ru.js';

export type Catalogue = typeof en;

const CATALOGUES: Readonly<Record<Language, Catalogue>> = Object.freeze({ en, ru });

export function catalogue(language: Language): Catalogue {
  return CATALOGUES[language];
}
