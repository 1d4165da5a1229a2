#!/usr/bin/env node
// The CLI from the build when there is one (npm run build), else from the TypeScript source.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', 'dist', 'sender', 'cli.js');
let cli;
if (existsSync(built)) {
  cli = require(built);
} else {
  require('tsx/cjs');
  cli = require('../sender/cli.ts');
}
cli.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
