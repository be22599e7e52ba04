import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { isCode } from './file-lock.ts';

// Versioned on-disk indexes shared by several worker processes. A writer
// writes version N+1's files completely (write-file-atomic: temp + fsync +
// rename), then flips a small pointer file `<name>.current` to N+1 (the same way). A reader reads
// the pointer before each query, which costs one small read, and loads the
// new version's files only when the number changed. Files of old versions are
// kept for a while so that a reader that has just read the old pointer can
// still open them.

/** How many versions before the current one stay on disk for slow readers. */
export const KEEP_OLD_VERSIONS = 2;

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * A directory name for an organisation id: the id itself when it is a plain
 * file name, otherwise `~` + a hash (no id can escape the data directory).
 */
export function organisationDirName(organisationId: string): string {
  if (SAFE_NAME.test(organisationId) && !organisationId.includes('..')) return organisationId;
  return `~${createHash('sha256').update(organisationId).digest('hex').slice(0, 40)}`;
}

export function pointerPath(dir: string, name: string): string {
  return join(dir, `${name}.current`);
}

/** The current version number, or undefined when nothing has been published. */
export async function readVersion(dir: string, name: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(pointerPath(dir, name), 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  const version = Number.parseInt(text.trim(), 10);
  if (!Number.isSafeInteger(version) || version < 1) throw new Error(`corrupt version pointer ${pointerPath(dir, name)}`);
  return version;
}

export async function writeVersion(dir: string, name: string, version: number): Promise<void> {
  await writeFileAtomic(pointerPath(dir, name), `${version}\n`);
}

/** Deletes `<name>.v<N>.*` files older than the last `KEEP_OLD_VERSIONS` before `current`. */
export async function pruneVersions(dir: string, name: string, current: number): Promise<void> {
  const pattern = new RegExp(`^${escapeRegExp(name)}\\.v(\\d+)\\.`);
  for (const file of await readdir(dir)) {
    const version = Number(pattern.exec(file)?.[1]);
    if (Number.isInteger(version) && version < current - KEEP_OLD_VERSIONS) {
      await rm(join(dir, file), { force: true });
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
