// The server's configuration: the schema and its types, and the loader. The pipeline reads workers, threads,
// budget, models dir and routing overrides from `Config`.
export { loadConfig, type ConfigSources, type LoadedConfig } from './load.ts';
export { CONFIG_FIELDS, CONFIG_FILE_ENV, DEFAULTS, defaultWorkers, type Config, type TlsConfig, type LogLevel } from './schema.ts';
export { ConfigError } from './errors.ts';
