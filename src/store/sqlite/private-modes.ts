import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

// What dvm keeps in a home: a directory holding anything else is not dvm's alone, and its mode is left to its owner.
const HOME_ENTRIES =
  /^(?:(?:dvm|agent)\.db(?:-wal|-shm|-journal)?|config\.ya?ml|serve\.lock|policies|runs|deps|backups|volumes|bin|jcmd|cancel-requested)$/;

/**
 * Makes a database made by an older dvm (0644 in a 0755 home) private like a new one: the file, its `-wal` and `-shm`
 * 0600, and its directory 0700 when it holds only dvm's own entries and is not group-writable (a home shared on
 * purpose). Only what this user owns is changed; a mode chmod refuses is left as it is.
 */
export function tightenLegacyModes(path: string): void {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  try {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      if (!existsSync(file)) continue;
      const stats = statSync(file);
      if (stats.uid === uid && (stats.mode & 0o077) !== 0) chmodSync(file, stats.mode & 0o700);
    }
    const dir = dirname(path);
    const home = statSync(dir);
    if (home.uid !== uid || (home.mode & 0o077) === 0 || (home.mode & 0o020) !== 0) return;
    if (readdirSync(dir).every((entry) => HOME_ENTRIES.test(entry))) chmodSync(dir, home.mode & 0o700);
  } catch {
    // A mode that cannot be changed (another owner, a read-only mount) is no reason to refuse the database.
  }
}
