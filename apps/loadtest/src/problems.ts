/** Counts problems of one kind and keeps the first few descriptions for the report. */
export class Problems {
  count = 0;
  readonly examples: string[] = [];

  constructor(private readonly keep = 5) {}

  add(description: string): void {
    this.count += 1;
    if (this.examples.length < this.keep) this.examples.push(description);
  }

  addAll(descriptions: readonly string[]): void {
    for (const description of descriptions) this.add(description);
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
