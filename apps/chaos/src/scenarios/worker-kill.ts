import { syntheticAnswer } from '@ragstream/rag';
import type { ManagedProcess } from '@ragstream/testing';
import type { Answer } from '../answers.ts';
import { askFollowUps, firstToReach, partialsOf, startAnswers, viewOf } from '../answers.ts';
import type { ChaosEnv } from '../chaos-env.ts';
import type { Scenario, ScenarioContext, ScenarioRun } from '../scenario.ts';
import { between, recoveryToTerminal, ScenarioSkipped, sleep, syntheticEnv } from '../scenario.ts';
import { modelTokens, scriptByTag } from '../scripted-model.ts';
import { verify } from '../verify.ts';

/** lockDuration 6 s + 2 × stalledInterval 3 s: BullMQ hands a dead worker's job on within about 12 s. */
const TAKEOVER_BUDGET_MS = 30_000;
/** How long the scripted model takes over the query-translation call: the retrieval window. */
const RETRIEVAL_MS = 1_500;
const MODEL_TOKENS = modelTokens(40);
/** The worker hook (RAGSTREAM_TEST_PAUSE_BEFORE_FINISH_MS): pause between the last token and the terminal frame. */
const PAUSE_BEFORE_FINISH_MS = 3_000;

/** Answers per worker process at the moment of the fault, from BullMQ's processedBy. */
async function answersOnWorker(env: ChaosEnv, answers: Answer[], worker: ManagedProcess): Promise<Answer[]> {
  const owners = await Promise.all(answers.map((a) => env.workerOf(a.generationId)));
  return answers.filter((_, i) => owners[i] === worker);
}

function phaseOf(answer: Answer): string {
  const view = viewOf(answer);
  if (view.terminal) return 'ended';
  if (partialsOf(answer) > 0) return 'streaming';
  const stages = view.frames
    .filter((f) => f.mt === 'chat_message_bot_status' && f.attempt === view.currentAttempt)
    .map((f) => (f.mt === 'chat_message_bot_status' ? f.stage : ''));
  return stages.at(-1) ?? (view.frames.length > 0 ? 'typing' : 'queued');
}

function phaseCounts(answers: Answer[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(phaseOf(a), (counts.get(phaseOf(a)) ?? 0) + 1);
  return [...counts].map(([phase, n]) => `${n} ${phase}`).join(', ');
}

/** SIGKILL the worker running `target`, start a replacement, and check that every answer it held ends complete. */
async function killAndVerify(
  env: ChaosEnv,
  ctx: ScenarioContext,
  answers: Answer[],
  target: Answer,
  notes: string[],
  known?: ManagedProcess,
): Promise<ScenarioRun> {
  const worker = known ?? (await env.workerOf(target.generationId));
  if (!worker) throw new Error(`no worker process runs ${target.generationId}`);
  // Answers the worker had started (a frame seen); a queued follow-up it only moved to delayed starts afresh elsewhere.
  const affected = (await answersOnWorker(env, answers, worker)).filter((a) => viewOf(a).frames.length > 0);
  notes.push(`killed ${worker.name} holding ${affected.length} answers (${phaseCounts(affected)})`);
  const endedBefore = new Set(affected.filter((a) => viewOf(a).terminal).map((a) => a.generationId));
  const faultAt = performance.now();
  await worker.kill();
  ctx.log(`SIGKILLed ${worker.name} (pid ${worker.pid}); ${affected.length} answers affected`);
  // An orchestrator restarts crashed workers; the survivor alone must take the jobs over, too.
  await env.cluster.addWorker();
  const verification = await verify(env, answers, { terminalTimeoutMs: TAKEOVER_BUDGET_MS + 30_000 });
  const problems: string[] = [];
  for (const answer of affected) {
    const view = viewOf(answer);
    if (view.terminal && view.terminal.attempt < 2 && !endedBefore.has(answer.generationId)) {
      problems.push(`${answer.generationId}: its worker was killed but it completed in attempt 1`);
    }
  }
  return { verification, recovery: { ms: recoveryToTerminal(affected, faultAt), kind: 'terminal' }, problems, notes };
}

export const workerKillRetrieval: Scenario = {
  name: 'worker-kill-retrieval',
  title: 'worker SIGKILLed during retrieval',
  fast: false,
  envKey: 'kill-retrieval',
  env: (sizes) => ({
    apis: 2,
    workers: 2,
    env: { FRAME_FLUSH_MS: String(sizes.flushMs), WORKER_CONCURRENCY: '64', LLM_MAX_RETRIES: '0' },
    scripted: scriptByTag((kind) =>
      kind === 'tool'
        ? { type: 'text', tokens: ['translated question'], firstByteDelayMs: RETRIEVAL_MS }
        : { type: 'text', tokens: MODEL_TOKENS, tokenDelayMs: 25 },
    ),
  }),
  async run(env, ctx) {
    const answers = await startAnswers(env, {
      count: ctx.sizes.answers,
      scenario: 'kill-retrieval',
      allowed: ['complete'],
      expectedText: MODEL_TOKENS.join(''),
    });
    answers.push(...(await askFollowUps(answers, 'kill-retrieval', MODEL_TOKENS.join(''))));
    const target = await firstToReach(answers, (f) => f.mt === 'chat_message_bot_status' && f.stage === 'searching');
    await sleep(between(ctx.random, 0, Math.floor(RETRIEVAL_MS * 0.6)));
    const notes = [`target ${target.generationId} was ${phaseOf(target)} at the kill`];
    return killAndVerify(env, ctx, answers, target, notes);
  },
};

export const workerKillStreaming: Scenario = {
  name: 'worker-kill-streaming',
  title: 'worker SIGKILLed while streaming',
  fast: false,
  envKey: 'synthetic',
  env: (sizes) => ({ apis: 2, workers: 2, env: syntheticEnv(sizes) }),
  async run(env, ctx) {
    const { tokens } = ctx.sizes;
    const answers = await startAnswers(env, {
      count: ctx.sizes.answers,
      scenario: 'kill-stream',
      allowed: ['complete'],
      expectedText: syntheticAnswer(tokens),
    });
    answers.push(...(await askFollowUps(answers, 'kill-stream', syntheticAnswer(tokens))));
    const k = between(ctx.random, 3, Math.max(4, Math.floor(tokens * 0.6)));
    const target = await firstToReach(answers, (f) => f.mt === 'chat_message_bot_partial' && f.seq >= k);
    return killAndVerify(env, ctx, answers, target, [`kill after seq ${k} of ${target.generationId}`]);
  },
};

export const workerKillBeforeFinish: Scenario = {
  name: 'worker-kill-finish',
  title: 'worker SIGKILLed between last token and terminal frame',
  fast: false,
  envKey: 'pause-hook',
  env: (sizes) => ({
    apis: 2,
    workers: 2,
    env: syntheticEnv(sizes),
    workerEnv: { RAGSTREAM_TEST_PAUSE_BEFORE_FINISH_MS: String(PAUSE_BEFORE_FINISH_MS) },
  }),
  async run(env, ctx) {
    const { tokens, tokensPerSecond } = ctx.sizes;
    const answers = await startAnswers(env, {
      count: ctx.sizes.answers,
      scenario: 'kill-finish',
      allowed: ['complete'],
      expectedText: syntheticAnswer(tokens),
    });
    answers.push(...(await askFollowUps(answers, 'kill-finish', syntheticAnswer(tokens))));
    const streamMs = tokensPerSecond > 0 ? (tokens / tokensPerSecond) * 1000 : 1000;
    const pattern = /pausing before finish/;
    const paused = await new Promise<ManagedProcess | undefined>((resolve) => {
      const workers = env.liveWorkers();
      let pending = workers.length;
      for (const w of workers) {
        w.waitForOutput(pattern, streamMs + 15_000).then(
          () => resolve(w),
          () => {
            if (--pending === 0) resolve(undefined);
          },
        );
      }
      // Every answer ended without any worker pausing: the hook is not in this worker.
      void Promise.all(answers.map((a) => viewOf(a).waitTerminal(streamMs + 15_000))).then(() => resolve(undefined));
    });
    if (!paused) {
      throw new ScenarioSkipped('the worker has no RAGSTREAM_TEST_PAUSE_BEFORE_FINISH_MS hook (no "pausing before finish" log line)');
    }
    const line = paused.logs.split('\n').find((l) => pattern.test(l)) ?? '';
    const generationId = /"generationId":"([^"]+)"/.exec(line)?.[1];
    const target = answers.find((a) => a.generationId === generationId) ?? answers[0];
    if (!target) throw new Error('no answers');
    await sleep(between(ctx.random, 0, Math.floor(PAUSE_BEFORE_FINISH_MS / 2)));
    const notes = [`${paused.name} paused before finishing ${generationId ?? '(unknown generation)'}`];
    return killAndVerify(env, ctx, answers, target, notes, paused);
  },
};
