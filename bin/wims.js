#!/usr/bin/env node
// The `wims` command: runs local/cli.ts through tsx's loader (no build step). npx/npm put
// node_modules/.bin first on PATH, so `node` here is the Node 22 the project installs.
import { register } from 'tsx/esm/api';

// Like `npm start`'s --no-warnings=ExperimentalWarning: the embedded SQS emulator uses node:sqlite,
// whose "experimental" notice says nothing to a user; every other warning is still printed.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'ExperimentalWarning') console.error(`${warning.name}: ${warning.message}`);
});

register();
await import('../local/cli.ts');
