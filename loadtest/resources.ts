/**
 * What the whole local stack costs the machine, from /proc: peak resident memory of its processes
 * (this process — the runtime, its worker threads, the embedded SQS/SNS — and DynamoDB Local's
 * JVM), and CPU time split by where it goes (the runtime's main thread, the Lambda worker threads,
 * DynamoDB Local, Artillery), which is what limits a run on a small machine.
 */
import { readFileSync } from 'node:fs';
import type { LocalStack } from '../local/runtime.js';

/** Linux reports CPU times in clock ticks of 1/100 s (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** `/proc/<path>/stat` fields after the command name (which is in parentheses and may hold spaces). */
function statFields(path: string): { name: string; fields: string[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${path}/stat`, 'utf8');
    return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), fields: stat.slice(stat.lastIndexOf(')') + 2).split(' ') };
  } catch {
    return undefined; // the process has ended
  }
}

/** User + system CPU seconds of a process or thread (`<pid>` or `<pid>/task/<tid>`); 0 once it has gone. */
export function cpuSeconds(path: string): number {
  const stat = statFields(path);
  // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name.
  return stat === undefined ? 0 : (Number(stat.fields[11]) + Number(stat.fields[12])) / TICKS_PER_SECOND;
}

/** Resident set size of a process in bytes (0 once it has gone). */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far, by where they went. */
export interface CpuTimes {
  /** The runtime's event loop: API Gateway, Pipes, EventBridge, Step Functions, SQS/SNS, SDK clients. */
  main_thread_s: number;
  /** Every other thread of this process: Lambda sandboxes, libuv, V8's GC and compiler. */
  other_threads_s: number;
  /** The stack's other processes: DynamoDB Local's JVM. */
  dynamodb_local_s: number;
  artillery_s: number;
}

/** Samples the stack's memory at an interval (keeping the peak) and reads CPU times on demand. */
export class StackResources {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly pids: number[];

  constructor(stack: LocalStack, intervalMs = 500) {
    this.pids = stack.processIds().filter((pid) => pid !== process.pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** CPU seconds so far; Artillery's only while it runs (`artilleryPid`). */
  cpu(artilleryPid?: number): CpuTimes {
    const main = cpuSeconds(`${process.pid}/task/${process.pid}`);
    return {
      main_thread_s: main,
      other_threads_s: cpuSeconds(String(process.pid)) - main,
      dynamodb_local_s: this.pids.reduce((sum, pid) => sum + cpuSeconds(String(pid)), 0),
      artillery_s: artilleryPid === undefined ? 0 : cpuSeconds(String(artilleryPid)),
    };
  }

  /** Stops sampling; returns the peak in MiB. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return Math.round(this.peak / 2 ** 20);
  }

  private sample(): void {
    const total = process.memoryUsage.rss() + this.pids.reduce((sum, pid) => sum + rssBytes(pid), 0);
    this.peak = Math.max(this.peak, total);
  }
}
