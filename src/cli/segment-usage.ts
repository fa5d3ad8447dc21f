// The usage text `onesam segment` prints after a usage error (README "Command line" says the same at length).
import { NETWORK_NAMES } from '../models/network-contract.ts';

const MODELS = ['route', ...NETWORK_NAMES, 'fuse'].join('|');
const NETWORK_MODELS = NETWORK_NAMES.map((n) => `${n}=NAME`).join(',');

export const SEGMENT_USAGE = `usage: onesam segment <input> -o <output> [options]
  <input>                        a challenge .npz (with its own boxes or scribbles, or prompts below), a NIfTI
                                 .nii / .nii.gz file, or a DICOM folder (searched at any depth) or file
                                 several inputs, or a folder holding .npz / .nii / .nii.gz files: a batch, -o a
                                 folder, each output named like its input (README, "Several inputs")
  -o, --output FILE              .npz (segs), .nii.gz / .nii (the input's geometry), .raw (little-endian uint8 or
                                 uint16 labels; shape and type in --json), .dcm (a DICOM SEG of a DICOM input)
  --format npz|nii.gz|nii|raw    the output format, instead of the extension
  --box [L:]x0,y0,x1,y1[,z]      a box on a 2D image, or on slice z of a volume (voxels; max exclusive)
  --box [L:]x0,y0,z0,x1,y1,z1    a box over slices z0..z1 (both included); --box repeats, labels 1..N in order
                                 unless L: gives one
  --box-mm [L:]xa,ya,za,xb,yb,zb two corners in patient millimetres (LPS, as viewers measure; DICOM inputs)
  --series UID                   which series of a DICOM folder holding several (they are listed otherwise)
  --prompts FILE.json            the proto's Prompt list as JSON (README, Command line); instead of --box
  --intensity asis|ct[:level,width]|percentile[:low,high]
                                 how values become 0..255 (NIfTI default asis, as the server; DICOM default by
                                 series: CT window for CT, percentiles for grey over 8 bits, else asis)
  --overlay FILE.png             a picture: the slices with a mask or a prompt, outlines and boxes
  --modality M  --model ${MODELS}  --prompt auto|boxes|scribbles  --json
  --speed-level N                3D boxes: compute every N-th slice, interpolate the others (1..8; 1 = exact)
  --models DIR  --network-models ${NETWORK_MODELS}
  --workers N  --threads N       the pool (default: one worker x every core for one slice, a worker per core
                                 for a volume walk)
  --server HOST:PORT [--tls-ca PEM] [--tls-cert PEM --tls-key PEM] [--tls-server-name NAME]
`;
