// Folder rules for src/, checked in CI by `npm run check:deps` (dependency-cruiser); README.md, "Floors", in short.
//
// The floors, bottom to top. A folder imports only folders on floors below its own: never a floor-mate, never a
// floor above. Data flows down (proto -> server -> pipeline -> workers -> models) and only results come back up.
//
//   0  errors, generated   the error registry and its gRPC mapping; the wire types generated from proto/
//   1  imaging, models     pure functions on typed arrays; checkpoints, architectures, graph builders, repository
//   2  volume              payload formats, intensity preparation, the prepared ImageVolume and the prompts
//   3  workers, eval, pacs the onnxruntime and codec threads; the challenge's DSC and NSD; the DICOMweb client
//   4  pipeline            plan, routing, embedding store and session cache, walks, label assembly
//   5  config, protocol    settings validated once, against the vocabulary of the floors below; wire <-> domain
//   6  observability       logger and metrics (the logger takes config's log level)
//   7  server, client      the gRPC service; the typed client
//   8  main.ts             the composition root
//   9  cli                 the `onesam` command (bin/onesam.mjs); nothing imports it
//
// Besides the floors: protocol is for the front ends only (server, client, cli), the generated wire types stay at
// the edge (protocol, server, client), and there is no import cycle anywhere. Type-only imports and dynamic
// import() count like any other (tsPreCompilationDeps), as they do for `npm run check:cycles`.
//
// There is no baseline of known violations: `check:deps` fails on any.
import { fileURLToPath } from 'node:url';

/** Each src/ folder (and src/main.ts) with its floor. A folder not listed here may import nothing of ours. */
export const FLOORS = Object.freeze({
  errors: 0,
  generated: 0,
  imaging: 1,
  models: 1,
  volume: 2,
  workers: 3,
  eval: 3,
  pacs: 3,
  pipeline: 4,
  config: 5,
  protocol: 5,
  observability: 6,
  server: 7,
  client: 7,
  'main.ts': 8,
  cli: 9,
});

/** The path pattern of one src/ entry: a folder's files, or the file itself. */
const entry = (name) => (name.endsWith('.ts') ? `${name.replace('.', '\\.')}$` : `${name}/`);
const anyOf = (names) => `^src/(${names.map(entry).join('|')})`;

const floorRules = Object.entries(FLOORS).map(([name, floor]) => {
  const below = Object.keys(FLOORS).filter((other) => FLOORS[other] < floor);
  return {
    name: `floor-${name.replace('.ts', '')}`,
    comment: `${name} is on floor ${floor}: it imports only itself and ${below.length ? below.join(', ') : 'nothing else of ours'}`,
    severity: 'error',
    from: { path: anyOf([name]) },
    to: { path: '^src/', pathNot: anyOf([name, ...below]) },
  };
});

export default {
  forbidden: [
    ...floorRules,
    {
      name: 'every-folder-on-a-floor',
      comment: 'a new src/ folder gets a floor in FLOORS (.dependency-cruiser.mjs) before it imports anything of ours',
      severity: 'error',
      from: { path: '^src/', pathNot: anyOf(Object.keys(FLOORS)) },
      to: { path: '^src/' },
    },
    {
      name: 'protocol-for-front-ends',
      comment: 'wire <-> domain conversion is used by the front ends (server, client, cli) only',
      severity: 'error',
      from: { pathNot: anyOf(['protocol', 'server', 'client', 'cli']) },
      to: { path: anyOf(['protocol']) },
    },
    {
      name: 'wire-types-at-the-edge',
      comment: 'the generated proto types are read by protocol, server and client only; the floors below speak the domain',
      severity: 'error',
      from: { pathNot: anyOf(['generated', 'protocol', 'server', 'client']) },
      to: { path: anyOf(['generated']) },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles, type-only and dynamic imports included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: '^src/',
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: fileURLToPath(new URL('./tsconfig.json', import.meta.url)) },
  },
};
