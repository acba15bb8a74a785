#!/usr/bin/env node
// The `berth` command. Node 24 runs the TypeScript sources directly (type stripping).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  // An older Node cannot load .ts files and would fail with a cryptic ERR_UNKNOWN_FILE_EXTENSION.
  console.error(`berth: needs Node.js 24, this is ${process.version}; run it through npm (npx berth ..., npm start), which uses the project's own Node 24`);
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
