// The modality router: an explicit, frozen table from imaging modality to network, and the parsing of free-text
// modality names (challenge file names, DICOM-ish strings) into the table's keys.
import { CodedError } from '../errors/coded-error.ts';
import type { EnsembleMode, Modality } from './types.ts';
import { isNetworkName, NETWORK_CHOICES, NETWORK_NAMES, type NetworkName } from '../models/network-contract.ts';

export type RoutingTable = Readonly<Record<Modality, NetworkName>>;

/**
 * Default routing, as the OneSAM paper's Table 3 reports: OneSAM where it beat the LiteMedSAM baseline (CT, PET,
 * X-ray, dermoscopy, microscopy), the baseline elsewhere (MR, ultrasound, endoscopy, fundus). OCT and mammography
 * are not in Table 3; they go to the baseline. This deliberately differs from the released OneSAM script, which
 * routes by file-name substrings (Endo, PET, XRay, Dermo, Micro) and so sends endoscopy to OneSAM and the
 * challenge's "X-Ray" files to the baseline.
 */
export const DEFAULT_ROUTING: RoutingTable = Object.freeze({
  CT: 'onesam',
  PET: 'onesam',
  XRay: 'onesam',
  Dermoscopy: 'onesam',
  Microscopy: 'onesam',
  MR: 'litemedsam',
  US: 'litemedsam',
  Endoscopy: 'litemedsam',
  Fundus: 'litemedsam',
  OCT: 'litemedsam',
  Mammography: 'litemedsam',
});

/** The network used when no modality is known in `route` mode: the baseline the paper starts from. */
export const FALLBACK_NETWORK: NetworkName = 'litemedsam';

export const MODALITIES: readonly Modality[] = Object.freeze(Object.keys(DEFAULT_ROUTING) as Modality[]);

// Spellings seen in challenge file names and third-party routing code, matched case-insensitively after removing
// '-', '_' and spaces. Order matters only for prefixes (checked after exact names).
const ALIASES: ReadonlyArray<readonly [string, Modality]> = [
  ['ct', 'CT'],
  ['mr', 'MR'], ['mri', 'MR'],
  ['pet', 'PET'], ['petct', 'PET'],
  ['us', 'US'], ['ultrasound', 'US'], ['ultra', 'US'],
  ['xray', 'XRay'], ['xr', 'XRay'], ['cxr', 'XRay'], ['dx', 'XRay'], ['cr', 'XRay'],
  ['dermoscopy', 'Dermoscopy'], ['dermoscope', 'Dermoscopy'], ['dermo', 'Dermoscopy'],
  ['endoscopy', 'Endoscopy'], ['endoscope', 'Endoscopy'], ['endo', 'Endoscopy'],
  ['fundus', 'Fundus'],
  ['microscopy', 'Microscopy'], ['microscope', 'Microscopy'], ['micro', 'Microscopy'],
  ['oct', 'OCT'],
  ['mammography', 'Mammography'], ['mammo', 'Mammography'], ['mamm', 'Mammography'], ['mg', 'Mammography'],
];

/** Parses a free-text modality name; undefined when it is not recognised. */
export function parseModality(text: string): Modality | undefined {
  const key = text.toLowerCase().replace(/[-_\s]/g, '');
  if (key === '') return undefined;
  for (const [alias, modality] of ALIASES) if (key === alias) return modality;
  for (const [alias, modality] of ALIASES) if (alias.length >= 4 && key.startsWith(alias)) return modality;
  return undefined;
}

/**
 * The modality token of a challenge file name `<2DBox|3DBox>_<Modality>_<NNNN>.npz` (the basename only, never the
 * directories: the released OneSAM code matched the whole path, so a folder name could re-route every file).
 */
export function modalityFromFileName(path: string): Modality | undefined {
  const base = path.split(/[\\/]/).pop() ?? '';
  const stem = base.replace(/\.npz$/i, '');
  const match = /^(?:2D|3D)[A-Za-z]*_(.+)_[^_]+$/.exec(stem);
  if (match) return parseModality(match[1]!);
  // Not challenge-shaped: try each underscore-separated token.
  for (const token of stem.split('_')) {
    const m = parseModality(token);
    if (m) return m;
  }
  return undefined;
}

/** A routing table with overrides applied (configuration or request), validated and frozen. */
export function makeRoutingTable(overrides: Readonly<Record<string, string>> = {}, field = 'routing'): RoutingTable {
  const table: Record<Modality, NetworkName> = { ...DEFAULT_ROUTING };
  for (const [name, network] of Object.entries(overrides)) {
    const modality = parseModality(name);
    if (!modality) throw new CodedError('MODALITY_UNKNOWN', `unknown modality "${name}" (known: ${MODALITIES.join(', ')})`, `${field}.${name}`);
    if (!isNetworkName(network)) {
      throw new CodedError('PROMPT_INVALID', `network must be ${NETWORK_CHOICES}, got "${network}"`, `${field}.${name}`);
    }
    table[modality] = network;
  }
  return Object.freeze(table);
}

/**
 * The networks that run for a request: one, or every network for `fuse`. `fallback` is ROUTE's network for an
 * unknown modality (the served one on a single-network server, src/pipeline/serving.ts).
 */
export function networksFor(mode: EnsembleMode, modality: Modality | undefined, table: RoutingTable, fallback: NetworkName = FALLBACK_NETWORK): readonly NetworkName[] {
  switch (mode) {
    case 'fuse': return [...NETWORK_NAMES];
    case 'route': return [modality ? table[modality] : fallback];
    default: return [mode];
  }
}
