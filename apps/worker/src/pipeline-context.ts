import type { HistoryTurn, HybridRetriever, OrganisationProfile, PipelineContext, RetrievedPassage } from '@ragstream/rag';
import type { ChatStore, KnowledgeStore } from '@ragstream/store';

/** The RAG pipeline's view of the stores and indexes. */
export class StorePipelineContext implements PipelineContext {
  constructor(
    private readonly chats: ChatStore,
    private readonly knowledge: KnowledgeStore,
    private readonly retriever: HybridRetriever,
    /** Told the seconds each successful retrieval took. */
    private readonly onRetrieved: (seconds: number) => void,
  ) {}

  async organisation(organisationId: string): Promise<OrganisationProfile | null> {
    return this.knowledge.getOrganisation(organisationId);
  }

  async history(chatId: string, beforeMessageId: string, turns: number): Promise<HistoryTurn[]> {
    // Messages sent after this one (queued behind it) are not its context.
    const recent = await this.chats.recentMessages(chatId, turns + 20);
    const at = recent.findIndex((m) => m.id === beforeMessageId);
    const before = at < 0 ? recent : recent.slice(0, at);
    return before.slice(-turns).map((m) => ({ role: m.role, text: m.text }));
  }

  /** Hybrid hits joined with their chunks; vectors of chunks that no longer exist are skipped. */
  async retrieve(organisationId: string, query: string, options: { topK: number; signal: AbortSignal }): Promise<RetrievedPassage[]> {
    const startedAt = performance.now();
    const hits = await this.retriever.retrieve(organisationId, query, options);
    const chunks = new Map((await this.knowledge.getChunks(hits.map((h) => h.chunkId))).map((c) => [c.id, c]));
    this.onRetrieved((performance.now() - startedAt) / 1000);
    return hits.flatMap((hit) => {
      const chunk = chunks.get(hit.chunkId);
      if (!chunk || chunk.organisationId !== organisationId) return [];
      return [
        {
          chunkId: chunk.id,
          documentId: chunk.documentId,
          title: chunk.title,
          text: chunk.text,
          language: chunk.language,
          heading: chunk.heading,
          score: hit.score,
        },
      ];
    });
  }
}
