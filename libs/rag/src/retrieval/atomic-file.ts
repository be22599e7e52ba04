import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/** A sibling path that no other writer (process or call) will pick. */
export function temporaryPath(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Writes `data` to a temporary sibling, flushes it and renames it over `path`:
 * rename is atomic on one file system, so a reader sees the old file or the
 * whole new one, never a half-written file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await writeThenRename(path, async (temporary) => {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/** Lets `write` produce a file at a temporary path, then renames it into place (removing it on failure). */
export async function writeThenRename(path: string, write: (temporary: string) => Promise<void>): Promise<void> {
  const temporary = temporaryPath(path);
  try {
    await write(temporary);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
