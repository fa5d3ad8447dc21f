// Building the Accepted and Summary response messages from the plan and the result.
import type { Accepted } from '../generated/onesam/v1/Accepted.ts';
import type { Summary } from '../generated/onesam/v1/Summary.ts';
import type { SegmentationPlan } from '../pipeline/segmenter.ts';
import type { ObjectResult } from '../generated/onesam/v1/ObjectResult.ts';
import type { ImageVolume, ObjectSummary, SegmentationResult } from '../pipeline/types.ts';
import { NETWORK_NAMES, type NetworkName } from '../models/network-contract.ts';
import type { PacsStored } from '../generated/onesam/v1/PacsStored.ts';
import type { SessionInfo } from '../generated/onesam/v1/SessionInfo.ts';
import type { ParsedHeader } from './request-header.ts';
import type { ModalitySource } from './request-modality.ts';
import type { SessionSnapshot } from './session-registry.ts';
import { labelFormatToWire, modeToWire, networkToWire, qualityToWire } from '../protocol/wire.ts';

export interface RequestTimes {
  readonly ingestMs: number;
  readonly sendMs: number;
  readonly wallMs: number;
  /** A PACS source's retrieve (within ingestMs). */
  readonly fetchMs?: number;
  /** A PACS store of the SEG (within sendMs). */
  readonly storeMs?: number;
}

/** Per-network counts as the wire's repeated NetworkSlices: networks with a count, in the contract's fixed order. */
export const perNetwork = (counts: Readonly<Record<NetworkName, number>>): { network: ReturnType<typeof networkToWire>; slices: number }[] =>
  NETWORK_NAMES.filter((n) => counts[n] > 0).map((n) => ({ network: networkToWire(n), slices: counts[n] }));

function sessionInfo(session: SessionSnapshot | undefined): { session?: SessionInfo } {
  return session ? { session: { sessionId: session.id, idleSeconds: session.idleSeconds, slicesCached: perNetwork(session.slicesCached) } } : {};
}

export function acceptedMessage(header: ParsedHeader, image: ImageVolume, plan: SegmentationPlan, modalitySource: ModalitySource, session?: SessionSnapshot): Accepted {
  return {
    requestId: header.requestId,
    modality: plan.modality ?? '',
    modalitySource: `MODALITY_SOURCE_${modalitySource.toUpperCase() as Uppercase<ModalitySource>}`,
    network: modeToWire(plan.mode),
    image: { depth: image.depth, height: image.height, width: image.width, channels: image.channels },
    objects: plan.objects.map((o) => ({ label: o.label, networks: o.networks.map(networkToWire), sliceFirst: o.slices[0], sliceLast: o.slices[1] })),
    slicesToEncode: perNetwork(plan.slicesToEncode),
    ...sessionInfo(session),
  };
}

export function objectResult(o: ObjectSummary): ObjectResult {
  return {
    label: o.label,
    networks: o.networks.map(networkToWire),
    voxels: o.voxels,
    sliceFirst: o.slices[0],
    sliceLast: o.slices[1],
    predictedIouMean: o.predictedIou.mean,
    predictedIouMin: o.predictedIou.min,
    ...(o.volumeMl !== undefined ? { volumeMl: o.volumeMl } : {}),
    ...(o.covered ? { coveredSliceFirst: o.covered[0], coveredSliceLast: o.covered[1] } : {}),
    stoppedEarly: o.stoppedEarly,
    quality: qualityToWire(o.quality),
  };
}

export function summaryMessage(
  header: ParsedHeader,
  result: SegmentationResult,
  labelDtype: 'uint8' | 'uint16',
  labelShape: readonly number[],
  labelBytes: number,
  times: RequestTimes,
  session?: SessionSnapshot,
  dicomSeg?: { readonly sopInstanceUid: string; readonly seriesInstanceUid: string; readonly studyInstanceUid: string },
  stored?: PacsStored,
): Summary {
  const s = result.stages;
  return {
    requestId: header.requestId,
    objects: result.objects.map(objectResult),
    slicesEncoded: perNetwork(result.slicesEncoded),
    slicesReused: perNetwork(result.slicesReused),
    speedLevel: result.speedLevel,
    slicesInterpolated: result.slicesInterpolated,
    stagesMs: {
      ingest: times.ingestMs, preprocess: s.preprocess, encode: s.encode, decode: s.decode, postprocess: s.postprocess,
      assemble: s.assemble, queue: s.queue, send: times.sendMs, fetch: times.fetchMs ?? 0, store: times.storeMs ?? 0,
    },
    wallMs: times.wallMs,
    labelType: labelDtype === 'uint16' ? 'LABEL_TYPE_UINT16' : 'LABEL_TYPE_UINT8',
    labelShape: [...labelShape],
    format: labelFormatToWire(header.output.format),
    gzip: header.output.gzip,
    labelBytes,
    ...sessionInfo(session),
    ...(dicomSeg ? { dicomSeg } : {}),
    ...(stored ? { stored } : {}),
  };
}
