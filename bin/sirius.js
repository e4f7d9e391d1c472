#!/usr/bin/env node
// The `sirius` command: node daemon, devnet, web host and terminal clients.
// Runs the TypeScript sources through tsx's loader so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../node-core/io/cli/sirius.ts');
