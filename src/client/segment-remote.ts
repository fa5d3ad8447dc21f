// `onesam segment --server HOST:PORT`: the same pipeline request, sent over gRPC. The image goes as raw uint8
// voxels with as-is intensity (it is already prepared), or, for a file the server reads itself (NIfTI), as that
// file with its format and intensity preparation; prompts as header prompts (scribble voxel sets as one stroke per
// row run, which the server draws back exactly), labels come back raw, so the result is the one the in-process
// pipeline returns.
import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type { IntensityPreparation as WireIntensity } from '../generated/onesam/v1/IntensityPreparation.ts';
import type { Progress__Output } from '../generated/onesam/v1/Progress.ts';
import type { Prompt } from '../generated/onesam/v1/Prompt.ts';
import type { RequestHeader } from '../generated/onesam/v1/RequestHeader.ts';
import type { Summary__Output } from '../generated/onesam/v1/Summary.ts';
import { ERROR_CODE_KEY } from '../errors/grpc-status.ts';
import { voxelsToStrokes } from '../protocol/scribble-strokes.ts';
import type { ObjectPrompt, SegmentationRequest, SegmentationResult } from '../pipeline/types.ts';
import { networkRecord, type NetworkName } from '../models/network-contract.ts';
import { EXACT_SPEED_LEVEL } from '../pipeline/speed-level.ts';
import { modeToWire, networkFromWire, payloadFormatToWire, qualityFromWire } from '../protocol/wire.ts';
import type { IntensityPreparation } from '../volume/intensity.ts';
import type { PayloadFormat } from '../volume/payload.ts';
import { SegmentationClient, type ClientOptions } from './client.ts';
import { rawLabels } from './labels.ts';

/** A gRPC failure as the CLI prints it: the server's stable code and its message. */
export class RemoteError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'RemoteError';
  }
}

/** A file sent as it is, for the server to decode as the caller did (`request.image` is what it decodes to). */
export interface RemoteUpload {
  readonly format: PayloadFormat;
  readonly bytes: Uint8Array;
  readonly intensity: IntensityPreparation;
}

export interface RemoteOptions extends ClientOptions {
  /** Send this file instead of the prepared voxels. */
  readonly upload?: RemoteUpload;
  /** Each Progress message as it arrives. */
  readonly onProgress?: (progress: Progress__Output) => void;
}

export function requestHeader(request: SegmentationRequest, upload?: RemoteUpload): Omit<RequestHeader, 'payloadBytes'> {
  const { image } = request;
  const shape = image.channels === 3 ? [image.height, image.width, 3] : image.depth > 1 ? [image.depth, image.height, image.width] : [image.height, image.width];
  return {
    requestId: request.requestId,
    modality: request.modality ?? '',
    ...(upload
      ? { format: payloadFormatToWire(upload.format), intensity: intensityToWire(upload.intensity) }
      : { format: 'PAYLOAD_FORMAT_RAW', raw: { shape, dtype: 'VOXEL_TYPE_UINT8', spacing: image.spacing ? [...image.spacing] : [] }, intensity: { asis: {} } }),
    prompts: request.objects.map((o) => promptToWire(o, image)),
    network: modeToWire(request.mode),
    output: { format: 'LABEL_FORMAT_RAW', gzip: false, forceUint16: false },
    // Unset: the server's speedLevel setting decides.
    ...(request.speedLevel !== undefined ? { speedLevel: request.speedLevel } : {}),
  };
}

export function intensityToWire(prep: IntensityPreparation): WireIntensity {
  switch (prep.kind) {
    case 'asis':
      return { asis: {} };
    case 'ct-window':
      return { ctWindow: { ...(prep.level !== undefined ? { level: prep.level } : {}), ...(prep.width !== undefined ? { width: prep.width } : {}) } };
    case 'percentile':
      return { percentile: { ...(prep.low !== undefined ? { low: prep.low } : {}), ...(prep.high !== undefined ? { high: prep.high } : {}) } };
  }
}

function promptToWire(object: ObjectPrompt, dims: { depth: number; height: number; width: number }): Prompt {
  const p = object.prompt;
  switch (p.kind) {
    case 'box2d':
      return { label: object.label, box2d: { xMin: p.x0, yMin: p.y0, xMax: p.x1, yMax: p.y1, ...(p.z !== undefined ? { z: p.z } : {}) } };
    case 'box3d':
      return { label: object.label, box3d: { xMin: p.x0, yMin: p.y0, zMin: p.z0, xMax: p.x1, yMax: p.y1, zMax: p.z1 } };
    case 'scribble':
      return { label: object.label, scribble: { strokes: voxelsToStrokes(p.voxels, dims).map((points) => ({ points: [...points] })) } };
  }
}

export function resultFromSummary(summary: Summary__Output, labels: Uint8Array | Uint16Array): SegmentationResult {
  const networks = (list: readonly unknown[]): NetworkName[] => list.map((n) => networkFromWire(n as never)).filter((n): n is NetworkName => n !== undefined);
  const perNetwork = (list: Summary__Output['slicesEncoded']): Record<NetworkName, number> => {
    const counts = networkRecord(() => 0);
    for (const s of list) {
      const n = networkFromWire(s.network);
      if (n) counts[n] = s.slices;
    }
    return counts;
  };
  const t = summary.stagesMs;
  return {
    labels,
    objects: summary.objects.map((o) => ({
      label: o.label,
      networks: networks(o.networks),
      voxels: o.voxels,
      slices: [o.sliceFirst, o.sliceLast] as const,
      // Optional proto3 fields: unset reads as undefined (a set 0 is a real slice index or volume).
      ...(o.coveredSliceFirst !== undefined && o.coveredSliceLast !== undefined ? { covered: [o.coveredSliceFirst, o.coveredSliceLast] as const } : {}),
      predictedIou: { mean: o.predictedIouMean, min: o.predictedIouMin },
      ...(o.volumeMl !== undefined ? { volumeMl: o.volumeMl } : {}),
      stoppedEarly: o.stoppedEarly,
      quality: qualityFromWire(o.quality),
    })),
    slicesEncoded: perNetwork(summary.slicesEncoded),
    slicesReused: perNetwork(summary.slicesReused),
    speedLevel: summarySpeedLevel(summary),
    slicesInterpolated: summary.slicesInterpolated,
    stages: {
      preprocess: t?.preprocess ?? 0, encode: t?.encode ?? 0, decode: t?.decode ?? 0, postprocess: t?.postprocess ?? 0,
      assemble: t?.assemble ?? 0, queue: t?.queue ?? 0,
    },
    wallMs: summary.wallMs,
  };
}

/**
 * Token from ONESAM_AUTH_TOKEN when set, so the CLI works against a server that requires one. The request id on
 * the wire is a fresh random UUID whatever `request.requestId` holds: callers name requests after their input
 * files, and file names of medical images often carry the patient's name or record number.
 */
export async function segmentRemote(server: string, request: SegmentationRequest, options: RemoteOptions = {}): Promise<SegmentationResult> {
  const { upload, onProgress, ...clientOptions } = options;
  return withRemoteClient(server, clientOptions, async (client) => {
    const outcome = await client.segment(
      { header: { ...requestHeader(request, upload), requestId: randomUUID() }, payload: upload ? upload.bytes : request.image.data },
      onProgress ? { onProgress } : {},
    );
    return resultFromSummary(outcome.summary, rawLabels(outcome.labels, outcome.summary));
  });
}

/**
 * Runs `call` on a client for `server` (token from ONESAM_AUTH_TOKEN unless the options give one) and closes it; a
 * gRPC failure becomes a RemoteError with the server's stable code. Every command that talks to a server uses it.
 */
export async function withRemoteClient<T>(server: string, options: ClientOptions, call: (client: SegmentationClient) => Promise<T>): Promise<T> {
  const token = options.token ?? process.env['ONESAM_AUTH_TOKEN'];
  const client = new SegmentationClient(server, { ...options, ...(token ? { token } : {}) });
  try {
    return await call(client);
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (typeof e.code === 'number' && e.metadata) {
      const code = e.metadata.get(ERROR_CODE_KEY)[0];
      throw new RemoteError(code ? String(code) : `gRPC ${e.code}`, e.details || e.message);
    }
    throw err;
  } finally {
    client.close();
  }
}

/** The networks a server runs, with the model and weights behind each (ListModels), e.g. for a DICOM SEG's algorithm. */
export async function remoteNetworks(server: string, options: ClientOptions = {}): Promise<{ name: NetworkName; model: string; weightsSha256?: string }[]> {
  return withRemoteClient(server, options, async (client) => {
    const response = await client.listModels(Date.now() + 30_000);
    return response.models.flatMap((m) => {
      const name = networkFromWire(m.network);
      if (!name) return [];
      return [{ name, model: m.model, ...(m.details?.weightsSha256 ? { weightsSha256: m.details.weightsSha256 } : {}) }];
    });
  });
}

/** The speed level a summary reports: a server from before speed levels leaves it 0, and it ran the exact walk. */
export function summarySpeedLevel(summary: Pick<Summary__Output, 'speedLevel'>): number {
  return summary.speedLevel || EXACT_SPEED_LEVEL;
}
