#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=50
// The `berth` command. Node 24 runs the TypeScript sources directly (type stripping).
// Memory (README, Performance): V8's default 64 MiB young generation and its
// lazy old-generation growth let the server sit at 310 MiB after a benchmark
// run whose live heap is ~40 MiB. A 4 MiB semi-space collects request
// buffers sooner, and growing the old generation by 1.5x instead of up to 4x
// runs full collections before garbage piles up: 238 MiB peak, with no
// measurable cost in CPU per request.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  // An older Node cannot load .ts files and would fail with a cryptic ERR_UNKNOWN_FILE_EXTENSION.
  console.error(`berth: needs Node.js 24, this is ${process.version}; run it through npm (npx berth ..., npm start), which uses the project's own Node 24`);
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
