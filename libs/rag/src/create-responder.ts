import { OfflineEchoResponder } from './offline-echo-responder.ts';
import type { Responder } from './responder.ts';
import { SyntheticResponder } from './synthetic-responder.ts';

export const LLM_PROVIDERS = ['offline-echo', 'synthetic'] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

export interface ResponderConfig {
  provider: LlmProvider;
  syntheticTokens: number;
  syntheticTokensPerSecond: number;
}

export function createResponder(config: ResponderConfig): Responder {
  switch (config.provider) {
    case 'synthetic':
      return new SyntheticResponder(config.syntheticTokens, config.syntheticTokensPerSecond);
    case 'offline-echo':
      return new OfflineEchoResponder();
  }
}
