// `onesam serve`: start the gRPC service with the configuration from flags, environment and file.
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { CONFIG_FIELDS } from '../config/schema.ts';
import { runServer } from '../main.ts';
import { EXIT_CONFIG, parseFlags, UsageError } from './args.ts';


const FLAGGED = CONFIG_FIELDS.filter((f) => f.flag);
const USAGE = `usage: onesam serve [options]

options (each also settable by its environment variable; flags win):
${FLAGGED.map((f) => `  --${f.flag!.padEnd(14)} ${f.env.padEnd(26)} default ${f.defaultText}`).join('\n')}
  --config FILE    ONESAM_CONFIG              JSON file with any setting (see docs/configuration.md)
`;

export async function run(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseFlags(args, {
      ...Object.fromEntries(FLAGGED.map((f) => [f.flag!, { type: 'string' as const }])),
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }, false));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`onesam serve: ${err.message}\n${USAGE}`);
    return 2;
  }
  if (values['help']) {
    process.stdout.write(USAGE);
    return 0;
  }
  let loaded;
  try {
    const flags = Object.fromEntries(FLAGGED.map((f) => [f.flag!, values[f.flag!] as string | undefined]));
    loaded = loadConfig({ flags, ...(typeof values['config'] === 'string' ? { configFile: values['config'] } : {}) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`onesam serve: ${err.message}\n`);
    return EXIT_CONFIG;
  }
  return runServer(loaded.config, { warnings: loaded.warnings });
}
