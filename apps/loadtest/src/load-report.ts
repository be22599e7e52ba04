import { textTable } from '@ragstream/testing';
import { ms } from './format-ms.ts';
import type { LoadResult } from './run-load.ts';

/** The human-readable report of one load-test run. */
export function formatLoadReport(r: LoadResult): string {
  const c = r.config;
  const lines: string[] = [];
  const target =
    r.mode === 'local' && c.local
      ? `local cluster (${c.local.apis} API nodes, ${c.local.workers} workers, WORKER_CONCURRENCY=${c.local.workerConcurrency}, ` +
        `synthetic ${c.local.tokens} tokens at ${c.local.tokensPerSecond} tok/s, FRAME_FLUSH_MS=${c.local.flushMs}, prefix ${c.redisPrefix ?? '?'}` +
        `${c.local.redisCluster ? ', on a three-master Redis Cluster' : ''})`
      : `deployment ${c.urls.join(', ')}`;
  lines.push(`RagStream load test against ${target}`);
  const mix = c.mix.map((share) => (c.mix.length === 1 ? share.transport : `${share.transport}=${share.weight}`)).join(',');
  lines.push(
    `  ${c.chats} chats x up to ${c.messagesPerChat} messages over ${mix}, sending for ${c.durationS} s (+${c.graceS} s grace), ` +
      `stop ratio ${c.stopRatio} and reconnect ratio ${c.reconnectRatio} (within ${c.stopDelayMs} ms of the first partial), ` +
      `think ${c.thinkMs} ms, seed ${c.seed}`,
  );
  const a = r.answers;
  lines.push('');
  lines.push(
    textTable([
      ['sent', 'completed', 'stopped', 'failed', 'no terminal', 'stops sent', 'stop too late', 'frames', 'frames/s', 'wall s'],
      [
        a.sent,
        a.completed,
        a.stopped,
        a.failed,
        a.noTerminal,
        a.stopRequested,
        a.stopTooLate,
        r.frames,
        r.framesPerSecond.toFixed(0),
        (r.wallMs / 1000).toFixed(1),
      ].map(String),
    ]),
  );
  lines.push('');
  lines.push(
    textTable([
      ['', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'max ms'],
      ...[
        ['time to first token (upload -> first partial)', r.ttftMs] as const,
        ...(r.ttftBaselineMs ? [['  in-process baseline (message -> first delta)', r.ttftBaselineMs] as const] : []),
        ['whole answer (upload -> terminal)', r.answerMs] as const,
        ['stop (stop sent -> terminal stopped)', r.stopLatencyMs] as const,
        ['frame delivery (appended in Redis -> received)', r.deliveryMs] as const,
      ].map(([label, s]) => [label, String(s.count), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.mean), ms(s.max)]),
    ]),
  );
  const overhead = r.ttftOverhead;
  if (overhead) {
    lines.push(
      `  time to first token over the in-process baseline (queue, Redis, worker): +${ms(overhead.p50Ms)} ms p50 (${overhead.p50Ratio.toFixed(2)}x), +${ms(overhead.p99Ms)} ms p99 (${overhead.p99Ratio.toFixed(2)}x)`,
    );
  }
  const transports = Object.entries(r.byTransport);
  if (transports.length > 1 || r.reconnects > 0) {
    lines.push('');
    lines.push(
      textTable([
        ['transport', 'chats', 'answers ended', 'reconnects', 'TTFT p50 ms', 'TTFT p99 ms'],
        ...transports.map(([transport, t]) => [
          transport,
          String(t.chats),
          String(t.answersEnded),
          String(t.reconnects),
          ms(t.ttftMs.p50),
          ms(t.ttftMs.p99),
        ]),
      ]),
    );
  }
  if (r.processes.length > 0) {
    lines.push('');
    const tokens = r.deliveredTokens;
    lines.push('  whole run, from the first message (chat setup, admissions and storing included):');
    lines.push(
      textTable([
        ['process', 'CPU s', 'CPU s / 1000 tokens', 'peak RSS MB', 'event-loop lag p99 / max ms'],
        ...r.processes.map((p) => [
          p.name,
          p.cpuSeconds.toFixed(2),
          tokens ? ((p.cpuSeconds * 1000) / tokens).toFixed(4) : '-',
          p.peakRssMb.toFixed(0),
          p.eventLoopLag ? `${p.eventLoopLag.p99} / ${p.eventLoopLag.max}` : '-',
        ]),
      ]),
    );
    const per = r.cpuPerThousandTokens;
    if (tokens !== null && per) {
      const kinds = (['api', 'worker', 'redis', 'load'] as const).filter((kind) => per[kind] !== undefined);
      lines.push(
        `  ${tokens} tokens delivered; CPU s per 1000 tokens: ${kinds.map((kind) => `${kind} ${per[kind]}`).join(', ')}; ` +
          `API nodes + workers + Redis ${per.total} (Redis's CPU is the whole server's)`,
      );
    }
  }
  const st = r.steadyState;
  if (st) {
    lines.push('');
    lines.push(`  steady state: ${st.seconds} s with ${st.answers} answers streaming, ${st.deliveredTokens} tokens delivered`);
    lines.push(
      textTable([
        ['process', 'CPU s', 'CPU %', 'CPU s / 1000 tokens'],
        ...st.processes.map((p) => [
          p.name,
          p.cpuSeconds.toFixed(2),
          st.seconds > 0 ? ((100 * p.cpuSeconds) / st.seconds).toFixed(0) : '-',
          st.deliveredTokens > 0 ? ((p.cpuSeconds * 1000) / st.deliveredTokens).toFixed(4) : '-',
        ]),
      ]),
    );
    const per = st.cpuPerThousandTokens;
    lines.push(
      `  CPU s per 1000 tokens in the steady state: api ${per.api ?? '-'}, worker ${per.worker ?? '-'}, redis ${per.redis ?? '-'}, ` +
        `load ${per.load ?? '-'}; API nodes + workers + Redis ${per.total ?? '-'}`,
    );
  }
  lines.push('');
  lines.push(
    `  protocol violations ${r.violations.count}; stored text/status mismatches ${r.stored.mismatches} of ${r.stored.checked} checked; ` +
      `${r.fullTextMismatches === null ? '' : `full-text mismatches ${r.fullTextMismatches}; `}errors ${r.errors.count}`,
  );
  for (const [label, examples] of [
    ['violations', r.violations.examples],
    ['stored mismatches', r.stored.examples],
    ['errors', r.errors.examples],
  ] as const) {
    if (examples.length === 0) continue;
    lines.push(`  ${label} (first ${examples.length}):`);
    for (const example of examples) lines.push(`    - ${example}`);
  }
  lines.push('');
  const reasons = [
    [a.noTerminal, 'answers without a terminal frame'],
    [a.failed, 'failed answers'],
    [r.violations.count, 'protocol violations'],
    [r.stored.mismatches, 'stored mismatches'],
    [r.fullTextMismatches ?? 0, 'full-text mismatches'],
    [r.errors.count, 'errors'],
  ] as const;
  const failed = reasons.filter(([count]) => count > 0).map(([count, what]) => `${count} ${what}`);
  lines.push(r.ok ? 'OK' : `FAILED: ${failed.join(', ')}`);
  return lines.join('\n');
}
