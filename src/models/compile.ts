// The default graph compiler of the model repository: the project's own ONNX builders for the image encoder
// and the prompt encoder + mask decoder. Kept apart from repository.ts so that the repository (and its tests)
// do not load the builders unless a graph is actually built.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StateDict } from './checkpoint/tensor.ts';
import { IMAGE_ENCODER_IO, NETWORKS, type NetworkName } from './network-contract.ts';
import { buildImageEncoder } from './networks/image-encoder.ts';
import { buildPromptDecoder } from './networks/prompt-decoder.ts';
import type { CompiledGraphs, GraphCompiler, Int8Request } from './graph-compiler.ts';

/** Bump when the graphs' interface changes in a way the source fingerprint below cannot see. */
export const GRAPH_FORMAT_VERSION = 1;

/**
 * Folders and files (relative to this file) whose code shapes the compiled graphs: the builders, and the
 * architectures and network contract they take their sizes and tensor names from.
 */
const BUILDER_SOURCES = ['networks', 'onnx', 'quantize', 'architectures.ts', 'network-contract.ts'];

/** One calibration input as the encoder reads it. */
const CALIBRATION_INPUT_DIMS = [1, 3, 256, 256];

/**
 * LiteMedSAM: plain TinyViT + SAM decoder; OneSAM: TinyViT with adapters + SAM-HQ decoder (spec section 4).
 * With `int8` the image encoder is quantised (bench/README.md, "int8"); the decoder stays fp32: it is a few
 * percent of a slice's time and its outputs are the mask logits themselves.
 */
export function compileGraphs(arch: NetworkName, weights: StateDict): CompiledGraphs;
export function compileGraphs(arch: NetworkName, weights: StateDict, int8?: Int8Request): CompiledGraphs | Promise<CompiledGraphs>;
export function compileGraphs(arch: NetworkName, weights: StateDict, int8?: Int8Request): CompiledGraphs | Promise<CompiledGraphs> {
  const network = NETWORKS[arch];
  const graphs = {
    encoder: buildImageEncoder(weights, { adapter: network.architecture.encoder.adapter !== null }),
    decoder: buildPromptDecoder(weights, { hq: network.needsInterm }),
  };
  if (!int8) return graphs;
  return import('./quantize/index.ts').then(async ({ quantizeGraph }) => ({
    encoder: await quantizeGraph(graphs.encoder, { name: IMAGE_ENCODER_IO.input, dims: CALIBRATION_INPUT_DIMS, batches: int8.calibration.inputs() }, { method: int8.method }),
    decoder: graphs.decoder,
  }));
}

/** The .ts files under `path`, or `path` itself when it names one. */
async function listSources(path: string): Promise<string[]> {
  if (path.endsWith('.ts')) return [path];
  const out: string[] = [];
  for (const e of await readdir(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) out.push(...await listSources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/**
 * The builder version the compiled-graph cache is keyed by: the format version plus a SHA-256 over the graph
 * builders' source files, so a change to any builder invalidates cached graphs without anyone remembering to
 * bump a number. Where the sources are not on disk (a bundled build), the format version alone is used.
 */
export async function builderVersion(): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const hash = createHash('sha256');
  try {
    const files = [fileURLToPath(import.meta.url)];
    for (const d of BUILDER_SOURCES) files.push(...await listSources(join(here, d)));
    for (const f of files.sort()) {
      hash.update(relative(here, f)).update('\0').update(await readFile(f)).update('\0');
    }
  } catch {
    return `v${GRAPH_FORMAT_VERSION}`;
  }
  return `v${GRAPH_FORMAT_VERSION}+${hash.digest('hex').slice(0, 16)}`;
}

export async function defaultGraphCompiler(): Promise<GraphCompiler> {
  return { version: await builderVersion(), compile: compileGraphs };
}
