// Which networks a server runs (the `models` setting: network -> repository model name) and the routing that
// follows from it. A network left out of the setting is not loaded at all, which saves its sessions in every
// worker (170-300 MiB with the demo networks, bench/README.md); ROUTE then sends every modality, and requests of
// unknown modality, to the network that is served.
import { CodedError } from '../errors/coded-error.ts';
import { FALLBACK_NETWORK, makeRoutingTable, MODALITIES, type RoutingTable } from './router.ts';
import type { Modality } from './types.ts';
import { NETWORK_NAMES, type NetworkName } from '../models/network-contract.ts';

/** Repository model name serving each network; a network without an entry is not served. */
export type NetworkModels = Readonly<Partial<Record<NetworkName, string>>>;

/** The embedded demo models (models/README.md), served when nothing else is configured. */
export const DEFAULT_MODELS: Readonly<Record<NetworkName, string>> = Object.freeze({ litemedsam: 'litemedsam-demo', onesam: 'onesam-demo' });

/** The served networks, in the contract's fixed order (NETWORK_NAMES). */
export function servedNetworks(models: NetworkModels): readonly NetworkName[] {
  return NETWORK_NAMES.filter((n) => models[n] !== undefined);
}

/** ROUTE's network for an unknown modality: the baseline when it is served, else the one network that is. */
export function fallbackNetwork(served: readonly NetworkName[]): NetworkName {
  return served.includes(FALLBACK_NETWORK) || served.length === 0 ? FALLBACK_NETWORK : served[0]!;
}

/**
 * The routing table of a server serving `served`: the default table with the overrides applied when both networks
 * run; with one network, every modality goes to it, and an override naming the other one is refused (field named).
 */
export function servingRoutingTable(overrides: Readonly<Record<string, string>>, served: readonly NetworkName[], field = 'routing'): RoutingTable {
  const table = makeRoutingTable(overrides, field);
  if (served.length !== 1) return table;
  const only = served[0]!;
  for (const [name, network] of Object.entries(overrides)) {
    if (network !== only) {
      throw new CodedError('NETWORK_NOT_SERVED', `routes to ${network}, which the models setting does not serve (it serves only ${only})`, `${field}.${name}`);
    }
  }
  const single = {} as Record<Modality, NetworkName>;
  for (const modality of MODALITIES) single[modality] = only;
  return Object.freeze(single);
}

/** Throws NETWORK_NOT_SERVED (naming the request's `network` field) when a plan needs a network not loaded. */
export function checkServed(needed: readonly NetworkName[], served: readonly NetworkName[]): void {
  const missing = needed.filter((n) => !served.includes(n));
  if (missing.length > 0) {
    throw new CodedError('NETWORK_NOT_SERVED',
      `this server does not run ${missing.join(' or ')} (its models setting serves only ${served.join(', ')}); use ROUTE or ${served.map((n) => n.toUpperCase()).join(', ')}`, 'network');
  }
}
