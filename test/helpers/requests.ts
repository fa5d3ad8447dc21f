// Request builders for server tests: small synthetic volumes with box, scribble or npz-borne prompts.
import type { SegmentInput } from '../../src/client/client.ts';
import type { Prompt } from '../../src/generated/onesam/v1/Prompt.ts';
import type { RequestHeader } from '../../src/generated/onesam/v1/RequestHeader.ts';

export interface VolumeSize {
  readonly depth: number;
  readonly height: number;
  readonly width: number;
}

export const SMALL_3D: VolumeSize = { depth: 6, height: 40, width: 48 };

/** A uint8 volume with a deterministic gradient (content does not matter to the fake segmenter). */
export function volumeBytes(size: VolumeSize): Uint8Array {
  const data = new Uint8Array(size.depth * size.height * size.width);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  return data;
}

export function box3d(label: number, x0: number, y0: number, z0: number, x1: number, y1: number, z1: number): Prompt {
  return { label, box3d: { xMin: x0, yMin: y0, zMin: z0, xMax: x1, yMax: y1, zMax: z1 } };
}

export function box2d(label: number, x0: number, y0: number, x1: number, y1: number, z?: number): Prompt {
  return { label, box2d: { xMin: x0, yMin: y0, xMax: x1, yMax: y1, ...(z !== undefined ? { z } : {}) } };
}

/** A raw uint8 request on SMALL_3D (or `size`) with one 3D box unless prompts are given. */
export function rawRequest(overrides: Partial<Omit<RequestHeader, 'payloadBytes'>> = {}, size: VolumeSize = SMALL_3D): SegmentInput {
  return {
    header: {
      requestId: 'test-request',
      format: 'PAYLOAD_FORMAT_RAW',
      raw: { shape: [size.depth, size.height, size.width], dtype: 'VOXEL_TYPE_UINT8' },
      prompts: [box3d(1, 4, 5, 1, 20, 22, 4)],
      ...overrides,
    },
    payload: volumeBytes(size),
  };
}
