import { parseArgs } from 'node:util';
import type { Transport } from './chat-socket.ts';
import { TRANSPORTS } from './chat-socket.ts';
import { listFlag, numberFlag, stringFlag, UsageError } from './cli-flags.ts';
import { loopbackBaseUrl } from './loopback.ts';

export interface LocalClusterOptions {
  apis: number;
  workers: number;
  tokens: number;
  tokensPerSecond: number;
  workerConcurrency: number;
  flushMs: number;
  /** Baseline chats: the same answers from the synthetic responder in an API node's own process (LOADTEST_BASELINE). */
  baselineChats: number;
  /** On a three-master Redis Cluster of its own instead of the Redis at REDIS_URL. */
  redisCluster: boolean;
}

export interface LoadOptions {
  /** API node base URLs (loopback only); empty with `local`. */
  urls: string[];
  /** Start a cluster of our own instead of using `urls`. */
  local: LocalClusterOptions | undefined;
  /** The transports' shares of the chats, each chat on one of them for its whole life. */
  mix: TransportShare[];
  chats: number;
  messagesPerChat: number;
  /** No new message is sent after this many seconds. */
  durationS: number;
  /** Answers still running at the end of `durationS` get this long to end; then everything is abandoned. */
  graceS: number;
  /** Fraction of answers stopped mid-stream (after the first partial and a random delay up to `stopDelayMs`). */
  stopRatio: number;
  stopDelayMs: number;
  /** Fraction of answers whose client drops its connection mid-stream and resumes on another node. */
  reconnectRatio: number;
  /** Pause between an answer's end and the chat's next message. */
  thinkMs: number;
  /** Longest wait for a confirm or a first partial. */
  timeoutMs: number;
  seed: number;
}

export interface TransportShare {
  transport: Transport;
  weight: number;
}

/**
 * The transport of chat `index` of `chats`: chats are dealt to the transports in proportion to
 * their weights, interleaved (`ws=1,sse=1` alternates), so that every node gets each transport.
 */
export function transportFor(index: number, mix: readonly TransportShare[]): Transport {
  const total = mix.reduce((sum, share) => sum + share.weight, 0);
  // The share whose cumulative range holds this chat's place in a repeating cycle of `total`.
  let place = (index % total) + 0.5;
  for (const share of mix) {
    if (place < share.weight) return share.transport;
    place -= share.weight;
  }
  return mix[mix.length - 1]?.transport ?? 'ws';
}

/** `ws=2,socketio=1,sse=1`: whole-number weights, each transport at most once. */
export function parseMix(text: string): TransportShare[] {
  const shares: TransportShare[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*([a-z]+)\s*=\s*(\d+)\s*$/.exec(part);
    const transport = match?.[1];
    const weight = Number(match?.[2]);
    if (!match || !(TRANSPORTS as readonly string[]).includes(transport ?? '') || !Number.isInteger(weight) || weight > 1000) {
      throw new UsageError(
        `--mix: expected transport=weight pairs such as ws=2,socketio=1,sse=1 (transports ${TRANSPORTS.join(', ')}), got ${JSON.stringify(part)}`,
      );
    }
    if (shares.some((share) => share.transport === transport)) throw new UsageError(`--mix: ${transport} is given twice`);
    if (weight > 0) shares.push({ transport: transport as Transport, weight });
  }
  if (shares.length === 0) throw new UsageError('--mix: at least one transport needs a weight above 0');
  return shares;
}

export const LOAD_USAGE = `Usage: npm run loadtest -- (--url URL[,URL...] | --local [--apis N --workers N]) [options]

Drives chats against API nodes on this machine and checks the frame protocol on the way.

Target (one of):
  --url URL                   API node base URL, repeated or comma-separated (loopback hosts only),
                              e.g. --url http://127.0.0.1:8000,http://127.0.0.1:8001
  --local                     start a cluster of our own (LLM_PROVIDER=synthetic, unique Redis prefix)
    --apis N --workers N        its size (default 2 and 2)
    --tokens N --tps R          synthetic answers (default 100 tokens at 100 tok/s)
    --worker-concurrency N      WORKER_CONCURRENCY (default: --chats, at most 1000)
    --flush-ms MS               FRAME_FLUSH_MS (default 15)
    --baseline N                N more chats get the same answers from the synthetic responder run
                                in an API node's own process (no queue, worker or Redis), in the
                                same run; the report gives time to first token over them as the
                                path's overhead (default 10, 0: none)
    --redis-cluster             on a three-master Redis Cluster of its own (redis-server and
                                redis-cli from this machine) instead of the Redis at REDIS_URL
Load:
  --chats N                   chats driven at once, spread over the nodes (default 20, at most 2000)
  --messages-per-chat K       messages each chat sends, one answer at a time (default 5, at most 1000)
  --duration S                no new message after S seconds (default 60, at most 3600)
  --grace S                   then answers in flight get S more seconds (default 30, at most 600)
  --transport ws|socketio|sse client transport of every chat (default ws); sse reads the event
                              stream and sends messages and stops over REST
  --mix ws=W,socketio=W,sse=W chats per transport, in proportion to the weights, interleaved
                              (instead of --transport; e.g. --mix ws=2,socketio=1,sse=1)
  --stop-ratio F              stop this fraction of answers mid-stream, from the same socket or
                              POST /chat/:id/stop on another node, alternately (default 0)
  --stop-delay-ms MS          stop (or reconnect) up to MS after the first partial (default 300)
  --reconnect-ratio F         for this fraction of answers the client drops its connection
                              mid-stream and resumes on the next node from the last seq it got
                              (answers not stopped; default 0)
  --think-ms MS               pause between an answer and the chat's next message (default 0)
  --timeout-ms MS             longest wait for a confirm or a first token (default 30000)
  --seed N                    seed of the stop choices (default 1)
  --json FILE                 also write the final JSON line to FILE
  --html FILE                 also write a report page: latency histograms and time series of
                              throughput, answers in flight and CPU per process (uPlot, inlined)
`;

export interface LoadCli {
  options: LoadOptions;
  jsonFile: string | undefined;
  htmlFile: string | undefined;
  help: boolean;
}

export function parseLoadArgs(argv: string[]): LoadCli {
  let values: ReturnType<typeof parseFlags>['values'];
  try {
    values = parseFlags(argv).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const help = values.help === true;
  const rawUrls = listFlag(values, 'url');
  const isLocal = values.local === true;
  if (!help && isLocal === rawUrls.length > 0) {
    throw new UsageError(
      isLocal ? 'give either --local or --url, not both' : 'give --url URL (a running deployment) or --local (a cluster of our own)',
    );
  }
  const localOnly = ['apis', 'workers', 'tokens', 'tps', 'worker-concurrency', 'flush-ms', 'baseline', 'redis-cluster'] as const;
  if (!isLocal) {
    const given = localOnly.filter((name) => values[name] !== undefined);
    if (given.length > 0) throw new UsageError(`${given.map((n) => `--${n}`).join(', ')} only apply with --local`);
  }
  const transport = stringFlag(values, 'transport');
  const mixText = stringFlag(values, 'mix');
  if (transport !== undefined && mixText !== undefined) throw new UsageError('give --transport or --mix, not both');
  if (transport !== undefined && !(TRANSPORTS as readonly string[]).includes(transport))
    throw new UsageError(`--transport must be one of ${TRANSPORTS.join(', ')}, got ${JSON.stringify(transport)}`);
  const mix = mixText === undefined ? [{ transport: (transport ?? 'ws') as Transport, weight: 1 }] : parseMix(mixText);
  const chats = numberFlag(values, 'chats', 20, 1, 2000);
  const options: LoadOptions = {
    urls: [...new Set(rawUrls.map(loopbackBaseUrl))],
    local: isLocal
      ? {
          apis: numberFlag(values, 'apis', 2, 1, 8),
          workers: numberFlag(values, 'workers', 2, 1, 16),
          tokens: numberFlag(values, 'tokens', 100, 1, 100_000),
          tokensPerSecond: numberFlag(values, 'tps', 100, 0, 100_000, false),
          workerConcurrency: numberFlag(values, 'worker-concurrency', Math.min(1000, chats), 1, 1000),
          flushMs: numberFlag(values, 'flush-ms', 15, 0, 1000),
          baselineChats: numberFlag(values, 'baseline', 10, 0, 1000),
          redisCluster: values['redis-cluster'] === true,
        }
      : undefined,
    mix,
    chats,
    messagesPerChat: numberFlag(values, 'messages-per-chat', 5, 1, 1000),
    durationS: numberFlag(values, 'duration', 60, 1, 3600, false),
    graceS: numberFlag(values, 'grace', 30, 1, 600, false),
    stopRatio: numberFlag(values, 'stop-ratio', 0, 0, 1, false),
    stopDelayMs: numberFlag(values, 'stop-delay-ms', 300, 0, 60_000),
    reconnectRatio: numberFlag(values, 'reconnect-ratio', 0, 0, 1, false),
    thinkMs: numberFlag(values, 'think-ms', 0, 0, 60_000),
    timeoutMs: numberFlag(values, 'timeout-ms', 30_000, 100, 600_000),
    seed: numberFlag(values, 'seed', 1, 0, 2 ** 31 - 1),
  };
  return { options, jsonFile: stringFlag(values, 'json'), htmlFile: stringFlag(values, 'html'), help };
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      url: { type: 'string', multiple: true },
      local: { type: 'boolean' },
      apis: { type: 'string' },
      workers: { type: 'string' },
      tokens: { type: 'string' },
      tps: { type: 'string' },
      'worker-concurrency': { type: 'string' },
      'flush-ms': { type: 'string' },
      baseline: { type: 'string' },
      'redis-cluster': { type: 'boolean' },
      chats: { type: 'string' },
      'messages-per-chat': { type: 'string' },
      duration: { type: 'string' },
      grace: { type: 'string' },
      transport: { type: 'string' },
      mix: { type: 'string' },
      'reconnect-ratio': { type: 'string' },
      'stop-ratio': { type: 'string' },
      'stop-delay-ms': { type: 'string' },
      'think-ms': { type: 'string' },
      'timeout-ms': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
      html: { type: 'string' },
    },
  });
}
