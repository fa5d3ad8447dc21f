// The onnxruntime session options every worker session is created with, in one place so that the benches
// (bench/encoder-profile.ts, bench/machine-peak.ts) measure exactly what the service runs.
import type * as ort from 'onnxruntime-node';

/** The image encoder's graph, or the prompt decoder's. */
export type WorkerGraph = 'encoder' | 'decoder';

/**
 * `cpuMemArena`: onnxruntime's CPU arena for the encoder too. The worker turns it on when it holds one network's
 * sessions (`encoderArena`), and the command line for its one-worker jobs; the decoder always has it (see below).
 */
export function workerSessionOptions(intraOpThreads: number, graph: WorkerGraph, cpuMemArena = false): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Encoder: the CPU arena keeps the session's activation peak for its lifetime. Since the encoder keeps its
    // activations under 8 MiB (bands, strips) that peak is about the working set glibc's heap keeps anyway, and the
    // arena encodes about 1.2x faster (no malloc/free and no heap trimming per tensor; bench/README.md, "encoder
    // arena"); but each session keeps its own, where glibc's heap serves both networks' encoders from the same
    // pages: +180 MiB per worker holding two networks, about +10 MiB holding one. So `encoderArena` decides.
    // The decoder has the arena on: it runs one prompt at a time (segment-worker.ts), so the arena keeps only a
    // B = 1 peak, measured +23 MiB RSS for both decoders; without it OneSAM's per-box decode still took 17k page
    // faults and 358 instead of 114 ms CPU in a fresh process, depending on glibc's mmap threshold at the time
    // (bench/decoder-faults.ts, bench/README.md "encoder-profile").
    enableCpuMemArena: cpuMemArena || graph === 'decoder',
    // No memory pattern for either graph. Without the arena, the pattern allocates the encoder's planned
    // activations as one block of about 64 MiB per run, which glibc mmaps fresh every time: with both networks in
    // a worker, 30k first-touch page faults per encode, at 10-20 us each on these VMs (bench/README.md,
    // "encoder-profile": LiteMedSAM 1280 -> 952 ms CPU, OneSAM 1977 -> 1071 ms per slice). With the arena (the
    // decoder always) the pattern's block is kept beside the arena's own chunks: OneSAM's decoder without it held
    // 80-95 MiB less per worker and decoded no slower (median 115-148 against 153-176 ms, "encoder arena").
    enableMemPattern: false,
    // Workers x threads is sized to the cores; spinning threads would still steal the main thread's CPU between tasks.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/**
 * Whether a worker's encoder sessions get onnxruntime's arena: when the worker holds (or, lazily, opens first) a
 * single network, whose arena costs about what glibc's heap would keep and encodes about 1.2x faster; not for a
 * second network in the same worker, whose arena would be a second copy of that working set (bench/README.md,
 * "encoder arena"). `forced`: the pool asked for the arena in every session (the command line's one-worker jobs).
 */
export function encoderArena(networksInWorker: number, forced: boolean): boolean {
  return forced || networksInWorker <= 1;
}
