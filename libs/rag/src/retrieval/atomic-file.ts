import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/**
 * For files that a native library writes itself (hnswlib's writeIndex), which write-file-atomic
 * cannot wrap: `write` produces the file at a temporary sibling, which is flushed and renamed
 * over `path` (and removed on failure), so a reader sees the old file or the whole new one.
 */
export async function writeThenRename(path: string, write: (temporary: string) => Promise<void>): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await write(temporary);
    const handle = await open(temporary, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
