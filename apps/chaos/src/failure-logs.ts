/** Lines of each process's log kept in the tail printed for a failing scenario. */
const TAIL_LINES = 120;

/**
 * What to print of a failing scenario's process logs: every line that names a
 * generation or chat from its problems, every warn / error line, and the tail of
 * each process's log (the full logs of a few hundred answers are too long to read).
 */
export function failureLogExcerpt(logs: string, problems: readonly string[]): string {
  const ids = new Set<string>();
  for (const problem of problems)
    for (const match of problem.matchAll(/\b(gen-[0-9a-f]{24}|[0-9a-f]{24})\b/g)) if (match[1]) ids.add(match[1]);
  const sections = logs.split(/(?=^----- )/m);
  return sections
    .map((section) => {
      const lines = section.split('\n');
      const header = lines[0] ?? '';
      const body = lines.slice(1);
      const relevant = body.filter((line) => /"level":"(warn|error)"/.test(line) || [...ids].some((id) => line.includes(id)));
      const tail = body.slice(-TAIL_LINES);
      const parts = [header];
      if (relevant.length > 0)
        parts.push(`  [lines naming a problem's generation or chat, and warnings / errors: ${relevant.length}]`, ...relevant.slice(-300));
      parts.push(`  [last ${tail.length} of ${body.length} lines]`, ...tail);
      return parts.join('\n');
    })
    .join('\n');
}
