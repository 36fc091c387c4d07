#!/usr/bin/env node
// The `wims` command: runs local/cli.ts through tsx's loader (no build step). npx/npm put
// node_modules/.bin first on PATH, so `node` here is the Node 22 the project installs.
import { register } from 'tsx/esm/api';

register();
await import('../local/cli.ts');
