import type { Scenario } from '../scenario.ts';
import { apiKill } from './api-kill.ts';
import { burst } from './burst.ts';
import { llm401, llm500Twice, llmHang } from './model-faults.ts';
import { pubsubKill } from './pubsub-kill.ts';
import { redisRestart } from './redis-restart.ts';
import { workerKillBeforeFinish, workerKillRetrieval, workerKillStreaming } from './worker-kill.ts';
import { workerStall } from './worker-stall.ts';

/** Every scenario, in the order `npm run chaos` runs them. */
export const SCENARIOS: readonly Scenario[] = [
  workerKillRetrieval,
  workerKillStreaming,
  workerKillBeforeFinish,
  workerStall,
  apiKill,
  pubsubKill,
  redisRestart,
  burst,
  llm401,
  llm500Twice,
  llmHang,
];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
