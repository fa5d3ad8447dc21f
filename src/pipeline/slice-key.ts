// The key of one slice's embedding for one network, shared by a request's embedding store and the session cache
// it hands embeddings to (kept here so that neither file imports the other for it).
import type { NetworkName } from '../models/network-contract.ts';

export type SliceKey = `${NetworkName}:${number}`;
export const sliceKey = (network: NetworkName, z: number): SliceKey => `${network}:${z}`;
