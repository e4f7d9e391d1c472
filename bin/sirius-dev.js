#!/usr/bin/env node
// Developer commands: `bench <name>` and `fuzz <name>` (npm run bench / npm run fuzz).
import { register } from 'tsx/esm/api';

register();
await import('../test/tools/dev.ts');
