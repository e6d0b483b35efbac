// The downloads folder (the `downloads` setting, <home>/downloads by default): where an accepted
// file goes. It is made when missing by whoever is about to write there (`parley transfers
// accept`, the receiver), not when the setting is set: a folder on a disk not mounted yet may be
// set now and used later.
import fs from 'node:fs/promises';
import { badInput, causeText } from '../errors.js';
import { downloadsPath, type Settings } from '../projections/settings.js';

// The absolute downloads folder, made (with its parents) when missing. Exit 2 when it cannot be:
// a file in the way, no permission, a read-only disk; the person chooses another with
// `parley settings set downloads DIR`.
// => '/home/ann/.parley/downloads'
export async function downloadsDir(settings: Settings, home: string): Promise<string> {
  const dir = downloadsPath(settings, home);
  try {
    // A file in the way: EEXIST (at dir) or ENOTDIR (above it).
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    throw badInput('DOWNLOADS_UNUSABLE', `cannot use the downloads folder ${dir} (${causeText(err, { code: true })}): choose another with parley settings set downloads DIR`, err);
  }
  return dir;
}
