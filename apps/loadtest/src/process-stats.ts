import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** CPU time and memory of one process, read from /proc (Linux). */
export interface ProcessSample {
  cpuSeconds: number;
  /** VmRSS: resident memory now. */
  rssMb: number;
  /** VmHWM: the most resident memory it has had. */
  peakRssMb: number;
}

/** Clock ticks per second of /proc's CPU times; 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/** Undefined when the process is gone or /proc is not there. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: the fields that count follow its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { cpuSeconds: ticks / TICKS_PER_SECOND, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** This process (the load generator), from Node itself. */
export function sampleSelf(): ProcessSample {
  const usage = process.resourceUsage();
  return {
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    rssMb: process.memoryUsage.rss() / 2 ** 20,
    peakRssMb: usage.maxRSS / 1024,
  };
}

export interface RedisSample extends ProcessSample {
  commands: number;
  usedMemoryMb: number;
}

/** The Redis server's own CPU, command count and memory (INFO); the whole server, whoever else uses it. */
export async function sampleRedis(redis: Redis): Promise<RedisSample> {
  const info = await redis.info();
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return {
    cpuSeconds: field('used_cpu_sys') + field('used_cpu_user'),
    rssMb: field('used_memory_rss') / 2 ** 20,
    peakRssMb: field('used_memory_peak') / 2 ** 20,
    commands: field('total_commands_processed'),
    usedMemoryMb: field('used_memory') / 2 ** 20,
  };
}
