import { syntheticAnswer } from '@ragstream/rag';
import { firstToReach, startAnswers, viewOf } from '../answers.ts';
import type { Scenario } from '../scenario.ts';
import { between, recoveryToFirstFrame, syntheticEnv } from '../scenario.ts';
import { verify } from '../verify.ts';

/**
 * An API node is SIGKILLed while its clients stream; they reconnect to the other node
 * with generationId + lastSeq and must get the rest: no gap, no duplicate.
 */
export const apiKill: Scenario = {
  name: 'api-kill',
  title: 'API node SIGKILLed; its clients resume on another node',
  fast: false,
  envKey: 'synthetic',
  env: (sizes) => ({ apis: 2, workers: 2, env: syntheticEnv(sizes) }),
  async run(env, ctx) {
    const { tokens } = ctx.sizes;
    const answers = await startAnswers(env, {
      count: ctx.sizes.answers,
      scenario: 'api-kill',
      allowed: ['complete'],
      expectedText: syntheticAnswer(tokens),
    });
    const victimUrl = env.api(0);
    const affected = answers.filter((a) => a.client.baseUrl === victimUrl);
    const k = between(ctx.random, 3, Math.max(4, Math.floor(tokens * 0.5)));
    await firstToReach(affected, (f) => f.mt === 'chat_message_bot_partial' && f.seq >= k);
    const victim = env.cluster.apis[0];
    if (!victim) throw new Error('no API node 0');
    const faultAt = performance.now();
    await victim.kill();
    ctx.log(`SIGKILLed ${victim.name}; ${affected.length} clients reconnect to ${env.api(1)}`);
    const verification = await verify(env, answers, { terminalTimeoutMs: 45_000 });
    const problems: string[] = [];
    const unresumed = affected.filter((a) => !viewOf(a).terminal && a.client.reconnections.length === 0);
    if (unresumed.length > 0) problems.push(`${unresumed.length} clients of the killed node never reconnected`);
    const reconnectMs = affected.flatMap((a) => a.client.reconnections.map((r) => r.reconnectedAt - faultAt));
    return {
      verification,
      recovery: { ms: recoveryToFirstFrame(affected, faultAt), kind: 'first-frame' },
      problems,
      notes: [
        `killed ${victim.name} after seq ${k}; ${affected.length} clients reconnected (slowest reconnect ${Math.round(Math.max(0, ...reconnectMs))} ms)`,
      ],
    };
  },
};
