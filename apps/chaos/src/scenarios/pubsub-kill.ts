import { syntheticAnswer } from '@ragstream/rag';
import { firstToReach, startAnswers } from '../answers.ts';
import type { Scenario } from '../scenario.ts';
import { between, recoveryToFirstFrame, sleep, syntheticEnv } from '../scenario.ts';
import { StopWatch } from '../stop-watch.ts';
import { verify } from '../verify.ts';

/**
 * Every pub/sub connection (API nodes' frame subscribers, workers' cancel listeners) is
 * killed while answers stream, and once more right before stops are sent for half of
 * them. Clients must not lose frames (a subscriber that sees a jump backfills from the
 * log), and stops must land within one flush window plus the stop's round trip even
 * though the cancel notification was lost.
 */
export const pubsubKill: Scenario = {
  name: 'pubsub-kill',
  title: 'CLIENT KILL TYPE pubsub mid-stream, and right before stop',
  fast: true,
  envKey: 'synthetic',
  env: (sizes) => ({ apis: 2, workers: 2, env: syntheticEnv(sizes) }),
  async run(env, ctx) {
    const { tokens, tokensPerSecond } = ctx.sizes;
    const count = ctx.sizes.answers;
    const answers = await startAnswers(env, { count, scenario: 'pubsub', allowed: ['complete'], expectedText: syntheticAnswer(tokens) });
    // Every other answer is stopped in phase 2; they must end `stopped`.
    const toStop = answers.filter((a) => a.index % 2 === 1);
    for (const a of toStop) {
      a.allowed = ['stopped'];
      delete a.expectedText;
    }

    const k = between(ctx.random, 3, Math.max(4, Math.floor(tokens * 0.25)));
    await firstToReach(answers, (f) => f.mt === 'chat_message_bot_partial' && f.seq >= k);
    const faultAt = performance.now();
    const killed1 = await env.redis.killPubSubClients();
    ctx.log(`killed ${killed1} pub/sub connections`);

    // Phase 2 a while later, while every answer still streams.
    const streamMs = tokensPerSecond > 0 ? (tokens / tokensPerSecond) * 1000 : 1000;
    await sleep(between(ctx.random, Math.floor(streamMs * 0.1), Math.floor(streamMs * 0.25)));
    const watch = new StopWatch(env);
    const late: string[] = [];
    const killed2 = await env.redis.killPubSubClients();
    try {
      // Stop on the node that does not hold the chat's client.
      await Promise.all(
        toStop.map(async (a) => {
          const listed = await watch.stop(env.otherLiveApi(a.client.baseUrl) ?? a.client.baseUrl, a.chatId, [a.generationId]);
          // A stop that arrives after the answer ended stops nothing and says so; that answer must then be whole.
          if (!listed.includes(a.generationId)) {
            a.allowed = ['complete'];
            a.expectedText = syntheticAnswer(tokens);
            late.push(a.generationId);
          }
        }),
      );
    } catch (err) {
      watch.close();
      throw err;
    }
    ctx.log(`killed ${killed2} pub/sub connections, then stopped ${toStop.length} answers`);
    const stops = await watch.report(ctx.sizes.flushMs, ctx.sizes.stopSlackMs);
    const verification = await verify(env, answers, { terminalTimeoutMs: streamMs + 30_000 });
    const problems: string[] = [];
    for (const over of stops.overBound) {
      problems.push(
        `${over.generationId}: stop took ${Math.round(over.latencyMs)} ms to reach the log, bound ${Math.round(over.boundMs)} ms`,
      );
    }
    for (const id of stops.neverLogged) problems.push(`${id}: no terminal frame in the log within 30 s of the stop`);
    if (late.length === toStop.length)
      problems.push(`every stop arrived after its answer ended: the stop-with-lost-notification case did not happen`);
    if (killed1 === 0 || killed2 === 0)
      problems.push(`CLIENT KILL TYPE pubsub killed ${killed1} and ${killed2} connections: the fault did not happen`);
    return {
      verification,
      recovery: { ms: recoveryToFirstFrame(answers, faultAt), kind: 'first-frame' },
      stops,
      problems,
      notes: [
        `killed ${killed1} pub/sub connections after seq ${k}, then ${killed2} right before ${toStop.length} stops (${late.length} arrived after their answer ended)`,
      ],
    };
  },
};
