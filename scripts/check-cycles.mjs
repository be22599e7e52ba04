// Fails when imports form a cycle anywhere in apps/ and libs/, across packages too.
// Workspace imports (@ragstream/x) resolve through node_modules symlinks, which madge skips,
// so each package export is mapped to its source file for madge to follow.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDirs = ['apps', 'libs'];

const paths = {};
for (const group of sourceDirs) {
  for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(group, entry.name);
    const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      if (typeof target !== 'string') throw new Error(`${dir}/package.json: export ${subpath} is not a plain path`);
      paths[join(pkg.name, subpath)] = [join(dir, target)];
    }
  }
}

const result = await madge(
  sourceDirs.map((dir) => join(root, dir)),
  { baseDir: root, fileExtensions: ['ts'], tsConfig: { compilerOptions: { baseUrl: root, paths } } },
);
const skipped = result.warnings().skipped;
const cycles = result.circular();
for (const cycle of cycles) console.error(`cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
if (skipped.length > 0) console.error(`unresolved imports (cycles through them go unseen): ${skipped.join(', ')}`);
console.error(`${Object.keys(result.obj()).length} files, ${cycles.length} import cycles`);
if (cycles.length > 0 || skipped.length > 0) process.exit(1);
