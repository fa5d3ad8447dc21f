// `onesam pacs segment --server`: a Segment request that names a series on one of the server's PACS endpoints
// instead of uploading it, and optionally has the SEG stored back. The command never sees the image, so prompts go
// as the person gave them (boxes in voxels or in patient mm, slices by instance) and the server maps and checks
// them against the series: its refusals name `header.prompts[i]`, the person's i-th prompt.
import { randomUUID } from 'node:crypto';
import type { Progress__Output } from '../generated/onesam/v1/Progress.ts';
import type { Prompt } from '../generated/onesam/v1/Prompt.ts';
import type { Summary__Output } from '../generated/onesam/v1/Summary.ts';
import type { EnsembleMode } from '../pipeline/types.ts';
import { labelFormatToWire, modeToWire } from '../protocol/wire.ts';
import type { IntensityPreparation } from '../volume/intensity.ts';
import type { LabelFormat } from '../volume/payload.ts';
import type { ClientOptions } from './client.ts';
import { intensityToWire, withRemoteClient } from './segment-remote.ts';

interface SliceRef { readonly sopInstanceUid: string; readonly frameNumber: number }
interface Concept { readonly codeValue: string; readonly codingScheme: string; readonly codeMeaning: string }

/** A prompt as a person wrote it (the shapes of the CLI's PromptSpec, src/cli/prompt-spec.ts). */
export interface PersonPrompt {
  readonly label: number;
  readonly shape:
    | { readonly kind: 'box2d'; readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number; readonly z?: number; readonly slice?: SliceRef }
    | { readonly kind: 'box3d'; readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number; readonly z0?: number; readonly z1?: number; readonly sliceFirst?: SliceRef; readonly sliceLast?: SliceRef }
    | { readonly kind: 'scribble'; readonly strokes: readonly (readonly { readonly x: number; readonly y: number; readonly z: number }[])[] }
    | { readonly kind: 'patient-box'; readonly cornerA: readonly number[]; readonly cornerB: readonly number[] };
  readonly segment?: { readonly label?: string; readonly category?: Concept; readonly type?: Concept };
}

export interface PacsRemoteRequest {
  readonly endpoint: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly prompts: readonly PersonPrompt[];
  readonly mode: EnsembleMode;
  readonly modality?: string;
  readonly intensity?: IntensityPreparation;
  /** Unset: the server's speedLevel setting decides. */
  readonly speedLevel?: number;
  /** The labels' format; with `store`, the server's SEG (LABEL_FORMAT_DICOM_SEG). */
  readonly output: LabelFormat;
  readonly gzip?: boolean;
  /** Store the SEG in this endpoint of the server; `sendLabels`: the SEG's bytes come back too. */
  readonly store?: { readonly endpoint: string; readonly sendLabels: boolean };
}

export interface PacsRemoteOptions extends ClientOptions {
  readonly onProgress?: (progress: Progress__Output) => void;
}

export interface PacsRemoteOutcome {
  /** The encoded labels as the server sent them (empty when stored without send_labels). */
  readonly labels: Uint8Array;
  readonly summary: Summary__Output;
}

export function promptsToWire(prompts: readonly PersonPrompt[]): Prompt[] {
  return prompts.map((p) => ({ label: p.label, ...shapeToWire(p.shape), ...(p.segment ? { segment: p.segment } : {}) }));
}

function shapeToWire(shape: PersonPrompt['shape']): Prompt {
  switch (shape.kind) {
    case 'box2d':
      return { box2d: { xMin: shape.x0, yMin: shape.y0, xMax: shape.x1, yMax: shape.y1, ...(shape.z !== undefined ? { z: shape.z } : {}), ...(shape.slice ? { slice: shape.slice } : {}) } };
    case 'box3d':
      return {
        box3d: {
          xMin: shape.x0, yMin: shape.y0, xMax: shape.x1, yMax: shape.y1, zMin: shape.z0 ?? 0, zMax: shape.z1 ?? 0,
          ...(shape.sliceFirst ? { sliceFirst: shape.sliceFirst } : {}), ...(shape.sliceLast ? { sliceLast: shape.sliceLast } : {}),
        },
      };
    case 'scribble':
      return { scribble: { strokes: shape.strokes.map((points) => ({ points: points.map((p) => ({ x: p.x, y: p.y, z: p.z })) })) } };
    case 'patient-box':
      return { patientBox: { cornerA: [...shape.cornerA], cornerB: [...shape.cornerB] } };
  }
}

/** Sends the request (token from ONESAM_AUTH_TOKEN, as `onesam segment --server`); gRPC failures become RemoteError. */
export async function segmentPacsRemote(server: string, request: PacsRemoteRequest, options: PacsRemoteOptions = {}): Promise<PacsRemoteOutcome> {
  const { onProgress, ...clientOptions } = options;
  return withRemoteClient(server, clientOptions, async (client) => {
    const outcome = await client.segment({
      header: {
        requestId: randomUUID(),
        modality: request.modality ?? '',
        pacs: { endpoint: request.endpoint, studyInstanceUid: request.studyInstanceUid, seriesInstanceUid: request.seriesInstanceUid },
        ...(request.intensity ? { intensity: intensityToWire(request.intensity) } : {}),
        prompts: promptsToWire(request.prompts),
        network: modeToWire(request.mode),
        output: { format: labelFormatToWire(request.output), gzip: request.gzip ?? false, forceUint16: false },
        ...(request.speedLevel !== undefined ? { speedLevel: request.speedLevel } : {}),
        ...(request.store ? { store: request.store } : {}),
      },
      payload: new Uint8Array(0),
    }, onProgress ? { onProgress } : {});
    return { labels: outcome.labels, summary: outcome.summary };
  });
}
