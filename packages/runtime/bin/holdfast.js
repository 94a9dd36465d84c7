#!/usr/bin/env node
// The built command line (`npx -y pnpm@10 build` first when running from a checkout).
import '../dist/cli.js';
