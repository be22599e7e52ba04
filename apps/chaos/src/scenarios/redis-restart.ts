import { syntheticAnswer } from '@ragstream/rag';
import { firstToReach, startAnswers, viewOf } from '../answers.ts';
import type { Scenario } from '../scenario.ts';
import { between, recoveryToFirstFrame, syntheticEnv } from '../scenario.ts';
import { verify } from '../verify.ts';

const DOWN_MS = 1_000;

/**
 * The suite's own Redis (AOF on) is shut down while answers stream and started again on
 * the same port and dir a second later. Every answer must still end complete, whole.
 */
export const redisRestart: Scenario = {
  name: 'redis-restart',
  title: 'Redis SHUTDOWN and restarted (AOF) mid-stream',
  fast: false,
  envKey: 'synthetic',
  env: (sizes) => ({ apis: 2, workers: 2, env: syntheticEnv(sizes) }),
  async run(env, ctx) {
    const { tokens } = ctx.sizes;
    const answers = await startAnswers(env, { count: ctx.sizes.answers, scenario: 'redis-restart', allowed: ['complete'], expectedText: syntheticAnswer(tokens) });
    const k = between(ctx.random, 3, Math.max(4, Math.floor(tokens * 0.4)));
    await firstToReach(answers, (f) => f.mt === 'chat_message_bot_partial' && f.seq >= k);
    const affected = answers.filter((a) => !viewOf(a).terminal);
    const { downAt, upAt } = await env.redis.restart(DOWN_MS);
    ctx.log(`Redis down for ${Math.round(upAt - downAt)} ms`);
    const verification = await verify(env, answers, { terminalTimeoutMs: 60_000, settleTimeoutMs: 20_000 });
    return {
      verification,
      recovery: { ms: recoveryToFirstFrame(affected, downAt), kind: 'first-frame' },
      notes: [`Redis shut down after seq ${k}, down ${Math.round(upAt - downAt)} ms; ${affected.length} answers streaming`],
    };
  },
};
