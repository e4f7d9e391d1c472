#!/usr/bin/env node
// `npm run web`: the web host (app/web/main.ts), serving the built renderer and the app services
// to a browser on 127.0.0.1. Runs the TypeScript sources through tsx's loader, like bin/sirius.js.
import { register } from 'tsx/esm/api';

register();
await import('../app/web/main.ts');
