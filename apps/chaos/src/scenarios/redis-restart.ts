import { syntheticAnswer } from '@ragstream/rag';
import { firstToReach, startAnswers, viewOf } from '../answers.ts';
import type { Scenario } from '../scenario.ts';
import { between, recoveryToFirstFrame, sleep, syntheticEnv } from '../scenario.ts';
import { verify } from '../verify.ts';

/** Two restarts, a long and a short outage: each is a new race between reconnecting publishers and subscribers. */
const OUTAGES_MS = [1_000, 300];
const BETWEEN_MS = 700;

/**
 * The suite's own Redis (AOF on) is shut down while answers stream and started again on
 * the same port and dir a second later, then once more briefly. Every answer must still
 * end complete and whole, with nothing lost or duplicated at any client or in the log.
 */
export const redisRestart: Scenario = {
  name: 'redis-restart',
  title: 'Redis SHUTDOWN and restarted (AOF) mid-stream, twice',
  fast: false,
  envKey: 'synthetic',
  env: (sizes) => ({ apis: 2, workers: 2, env: syntheticEnv(sizes) }),
  async run(env, ctx) {
    const { tokens } = ctx.sizes;
    const answers = await startAnswers(env, {
      count: ctx.sizes.answers,
      scenario: 'redis-restart',
      allowed: ['complete'],
      expectedText: syntheticAnswer(tokens),
    });
    const k = between(ctx.random, 3, Math.max(4, Math.floor(tokens * 0.4)));
    await firstToReach(answers, (f) => f.mt === 'chat_message_bot_partial' && f.seq >= k);
    const affected = answers.filter((a) => !viewOf(a).terminal);
    const outages: { downAt: number; upAt: number }[] = [];
    for (const [i, downMs] of OUTAGES_MS.entries()) {
      if (i > 0) await sleep(BETWEEN_MS);
      outages.push(await env.redis.restart(downMs));
    }
    const downAt = outages[0]?.downAt ?? performance.now();
    const downs = outages.map((o) => `${Math.round(o.upAt - o.downAt)} ms`).join(' and ');
    ctx.log(`Redis down for ${downs}`);
    const verification = await verify(env, answers, { terminalTimeoutMs: 60_000, settleTimeoutMs: 20_000 });
    return {
      verification,
      recovery: { ms: recoveryToFirstFrame(affected, downAt), kind: 'first-frame' },
      notes: [
        `Redis shut down after seq ${k}, down ${downs} (${BETWEEN_MS} ms apart); ${affected.length} answers streaming; recovery from the first shutdown`,
      ],
    };
  },
};
