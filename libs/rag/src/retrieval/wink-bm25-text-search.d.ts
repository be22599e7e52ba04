// Types for wink-bm25-text-search 3.x, which ships none: only what keyword-index.ts uses.
declare module 'wink-bm25-text-search' {
  interface Bm25Config {
    fldWeights: Record<string, number>;
    bm25Params?: { k1?: number; b?: number; k?: number };
    ovFldNames?: string[];
  }

  interface Bm25Engine {
    defineConfig(config: Bm25Config): boolean;
    definePrepTasks(tasks: ((input: string) => string[])[], field?: string): number;
    addDoc(doc: Record<string, string>, id: string): number;
    consolidate(freqPrecision?: number): boolean;
    /** [id, score] pairs, best first; `limit` defaults to 10. */
    search(text: string, limit?: number): [string, number][];
    exportJSON(): string;
    importJSON(json: string): boolean;
    getTotalDocs(): number;
  }

  function bm25(): Bm25Engine;
  export default bm25;
  export type { Bm25Config, Bm25Engine };
}
