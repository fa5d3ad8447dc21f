// The onnxruntime session options every worker session is created with, in one place so that the benches
// (bench/encoder-profile.ts, bench/machine-peak.ts) measure exactly what the service runs.
import type * as ort from 'onnxruntime-node';

/** The image encoder's graph, or the prompt decoder's. */
export type WorkerGraph = 'encoder' | 'decoder';

/**
 * `cpuMemArena`: the command line turns the encoder's arena on too for one-worker jobs, where a session's first run
 * without it allocates every activation from the system (bench/README.md, "cli-startup"); the server keeps the
 * encoder's off (memory) and the decoder's on (see below).
 */
export function workerSessionOptions(intraOpThreads: number, graph: WorkerGraph, cpuMemArena = false): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Encoder: the CPU arena keeps every activation peak (the encoder's, (B,32,256,256) in the decoder) for the
    // session's lifetime: measured 1.8 GiB RSS per worker after one encode and one B=8 decode of each network with the
    // arena, 0.5 GiB without (bench/README.md, "memory"). Since the encoder keeps its activations under 8 MiB
    // (bands, strips), glibc's heap serves them resident and the arena no longer buys speed ("encoder-profile").
    // The decoder has the arena on: it runs one prompt at a time (segment-worker.ts), so the arena keeps only a
    // B = 1 peak, measured +23 MiB RSS for both decoders; without it OneSAM's per-box decode still took 17k page
    // faults and 358 instead of 114 ms CPU in a fresh process, depending on glibc's mmap threshold at the time
    // (bench/decoder-faults.ts, bench/README.md "encoder-profile").
    enableCpuMemArena: cpuMemArena || graph === 'decoder',
    // Without the arena, ORT's memory pattern allocates the encoder's planned activations as one block of about
    // 64 MiB per run, which glibc mmaps fresh every time: with both networks in a worker, 30k first-touch page
    // faults per encode, at 10-20 us each on these VMs. Per-tensor allocations come back from glibc's heap
    // already resident (bench/README.md, "encoder-profile": LiteMedSAM 1280 -> 952 ms CPU, OneSAM 1977 -> 1071 ms
    // per slice). The decoder keeps the pattern: without it OneSAM's single-prompt decode faulted more (measured).
    enableMemPattern: graph === 'decoder',
    // Workers x threads is sized to the cores; spinning threads would still steal the main thread's CPU between tasks.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}
