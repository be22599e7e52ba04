import { textTable } from '@ragstream/testing';
import { ms } from './format-ms.ts';
import type { Summary } from './percentiles.ts';
import type { BenchResult } from './run-bench.ts';

const LATENCY_HEAD = ['', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'max ms'];

function latencyRow(label: string, s: Summary): string[] {
  return [label, String(s.count), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.mean), ms(s.max)];
}

function rate(tokensPerSecond: number): string {
  return tokensPerSecond > 0 ? `${tokensPerSecond} tok/s` : 'unpaced';
}

/** The human-readable report of one bench run. */
export function formatBenchReport(r: BenchResult): string {
  const c = r.config;
  const lines: string[] = [];
  lines.push(
    `RagStream bench${c.quick ? ' (quick)' : ''}: ${c.apis} API nodes, ${c.workers} workers per phase, LLM_PROVIDER=synthetic, ` +
      `FRAME_FLUSH_MS=${c.flushMs}, Node ${c.node}, ${c.cpus} CPUs, Redis prefix ${c.redisPrefix}`,
  );

  const t = r.ttft;
  lines.push('');
  lines.push(
    `a) Time to first token: ${t.answers} answers (${t.warmup} warm-up not counted), ${t.concurrency} at a time, each in a new chat, ` +
      `${t.tokens} tokens at ${rate(t.tokensPerSecond)}; raw WebSocket, nodes alternating`,
  );
  lines.push(
    textTable([
      LATENCY_HEAD,
      latencyRow('through the queue (upload -> first partial)', t.queueMs),
      latencyRow('  of which upload -> confirm', t.confirmMs),
      latencyRow('  of which confirm -> first partial', t.confirmToFirstPartialMs),
      latencyRow('in-process (respond() -> first delta)', t.inProcessMs),
      latencyRow('overhead (queue - in-process)', t.overheadMs),
    ]),
  );
  lines.push(`  failures ${t.failures}, text mismatches ${t.mismatches}, protocol violations ${t.violations}`);

  const s = r.stop;
  lines.push('');
  lines.push(
    `b) Stop latency: ${s.answers} answers, ${s.concurrency} at a time, ${s.tokens} tokens at ${rate(s.tokensPerSecond)}; streamed to a client of ` +
      `node A, stopped from node B 0-${s.maxDelayMs} ms after the first partial; stop sent -> terminal 'stopped' frame on node A`,
  );
  lines.push(
    textTable([
      LATENCY_HEAD,
      latencyRow('all stops', s.latencyMs),
      latencyRow("{mt:'stop'} on a node-B WebSocket", s.byMethod.ws),
      latencyRow('POST /chat/:chatId/stop on node B', s.byMethod.http),
    ]),
  );
  lines.push(
    `  stored text == received text: ${s.latencyMs.count - s.mismatches}/${s.latencyMs.count} (MISMATCHES ${s.mismatches}); ` +
      `not stopped ${s.notStopped}; failures ${s.failures}; protocol violations ${s.violations}; ` +
      `stopped text length p50 ${s.stoppedChars.p50} chars (max ${s.stoppedChars.max})`,
  );

  const h = r.throughput;
  lines.push('');
  lines.push(
    `c) Throughput: ${h.chats} concurrent chats (after ${h.warmupChats} warm-up), one message each, ${h.tokens} tokens at ${rate(h.tokensPerSecond)}, ` +
      `WORKER_CONCURRENCY=${h.workerConcurrency}; setup ${ms(h.setupMs)} ms not counted`,
  );
  lines.push(
    textTable([
      ['wall ms', 'frames', 'frames/s', 'tokens/s', 'completed', 'incomplete', 'out of order', 'text mismatches', 'stored mismatches'],
      [
        ms(h.wallMs),
        String(h.frames),
        h.framesPerSecond.toFixed(0),
        h.tokensDeliveredPerSecond.toFixed(0),
        `${h.answersCompleted}/${h.chats}`,
        String(h.incomplete),
        String(h.outOfOrder),
        String(h.textMismatches),
        String(h.storedMismatches),
      ],
    ]),
  );
  lines.push(textTable([LATENCY_HEAD, latencyRow('time to first token under load', h.ttftMs), latencyRow('whole answer', h.answerMs)]));

  const problems = [...t.problems, ...s.problems, ...h.problems];
  if (problems.length > 0) {
    lines.push('');
    lines.push('Problems (first few):');
    for (const problem of problems.slice(0, 15)) lines.push(`  - ${problem}`);
  }
  lines.push('');
  const tot = r.totals;
  lines.push(
    `${r.ok ? 'OK' : 'FAILED'}: failures ${tot.failures}, mismatches ${tot.mismatches}, protocol violations ${tot.violations}, ` +
      `incomplete ${tot.incomplete}; ${(r.durationMs / 1000).toFixed(1)} s in all`,
  );
  return lines.join('\n');
}
