import type { HistoryTurn } from '../follow-up.ts';
import type { SupportedLanguage } from '../language.ts';

export type { HistoryTurn };

export interface OrganisationProfile {
  id: string;
  name: string;
  industry?: string | undefined;
  description?: string | undefined;
  tone?: string | undefined;
  defaultLanguage: SupportedLanguage;
}

export interface RetrievedPassage {
  chunkId: string;
  documentId: string;
  title: string;
  text: string;
  language: SupportedLanguage;
  heading?: string | undefined;
  /** Fused relevance, higher is better. */
  score: number;
}

/** Where the pipeline reads what it needs; the worker implements these over its stores. */
export interface PipelineContext {
  organisation(organisationId: string): Promise<OrganisationProfile | null>;
  /** Turns before the message being answered, oldest first. */
  history(chatId: string, beforeMessageId: string, turns: number): Promise<HistoryTurn[]>;
  retrieve(organisationId: string, query: string, options: { topK: number; signal: AbortSignal }): Promise<RetrievedPassage[]>;
}
