// The `onesam` command: dispatches to one module per subcommand.
import { NETWORK_NAMES } from '../models/network-contract.ts';

const COMMANDS: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  import: () => import('./import.ts'),
  segment: () => import('./segment.ts'),
  eval: () => import('./eval.ts'),
  serve: () => import('./serve.ts'),
  pacs: () => import('./pacs.ts'),
  bench: () => import('./bench.ts'),
};

const USAGE = `usage: onesam <command> [options]

commands:
  import <checkpoint> --arch ${NETWORK_NAMES.join('|')} --out models/<name>   compile a checkpoint into the model repository
  segment <in.npz|in.nii.gz|imgs/...> -o <out.npz|.nii.gz|.raw|segs/> [--box ...|--prompts FILE.json] [--intensity P]
          [--overlay FILE.png] [--modality M] [--model ${['route', ...NETWORK_NAMES, 'fuse'].join('|')}] [--json] [--server HOST:PORT]
  pacs studies|series --endpoint NAME [...]                          search a PACS (QIDO-RS; docs/pacs.md)
  pacs segment --endpoint NAME --study UID --series UID [--box ...] [-o seg.dcm] [--store NAME] [--server HOST:PORT]
                                                                      segment a PACS series, store the SEG back
  eval --pred DIR --gt DIR [--json]                                   challenge DSC / NSD
  bench [--quick] [--json] [--volumes ct,mr,microscopy] [--model M] [--workers W --threads T]
                                                                      the paper's workloads, synthetic (bench/README.md)
  serve [--port 50051] [--metrics-port 9464] [--models DIR]           start the gRPC service
        [--network-models ${NETWORK_NAMES.map((n) => `${n}=NAME`).join(',')}]                 which repository model serves each network
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`onesam: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  const mod = await load();
  return mod.run(rest);
}
