// What `onesam bench` reports about the machine (CPU model, the instruction sets onnxruntime's kernels choose
// from, cores) and how it follows resident memory during a run (worker threads share the process's RSS).
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';

/** Flags that decide which GEMM / conv kernels onnxruntime's MLAS runs (fp32 and int8). */
export const KERNEL_FLAGS = [
  'avx', 'avx2', 'fma', 'f16c', 'avx_vnni', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16',
  'amx_tile', 'amx_int8', 'amx_bf16',
] as const;

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly flags: readonly string[];
  readonly node: string;
}

/** The CPU's model and kernel flags from /proc/cpuinfo (Linux), else os.cpus() without flags. */
export function machineInfo(cpuinfo = readCpuinfo()): MachineInfo {
  const field = (name: string): string | undefined => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim();
  const present = new Set((field('flags') ?? '').split(/\s+/));
  return {
    cpuModel: field('model name') ?? cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    flags: KERNEL_FLAGS.filter((f) => present.has(f)),
    node: process.version,
  };
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/** What the process held at its RSS peak: the main thread's array buffers (the volume, the labels and every
 * embedding: SharedArrayBuffers are counted there too) and the embedding bytes the pipeline's budget held. */
export interface RssPeak {
  readonly rssBytes: number;
  readonly arrayBufferBytes: number;
  readonly embeddingBytes: number;
}

/** Samples the process's RSS every `everyMs` until stopped, with what was held at the peak. */
export class RssSampler {
  private peak: RssPeak;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly embeddingBytes: () => number = () => 0, everyMs = 20) {
    this.peak = this.now();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private now(): RssPeak {
    const m = process.memoryUsage();
    return { rssBytes: m.rss, arrayBufferBytes: m.arrayBuffers, embeddingBytes: this.embeddingBytes() };
  }

  private sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak.rssBytes) this.peak = this.now();
  }

  stop(): RssPeak {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

export const MiB = 1024 * 1024;
