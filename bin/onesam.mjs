#!/usr/bin/env node
// Entry point of the `onesam` command: registers the TypeScript loader (tsx), then runs the CLI dispatcher.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
