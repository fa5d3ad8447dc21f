#!/usr/bin/env node
// Entry point of the `onesam` command: registers the TypeScript loader, then runs the CLI dispatcher.
import { register } from 'node:module';
register('tsx/esm', import.meta.url);
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
