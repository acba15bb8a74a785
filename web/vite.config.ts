/**
 * Builds the console into web/dist. Everything is served under /console/
 * (the server maps `/` and every client-side route to index.html), so the
 * console never shadows /v2, /apis, /oauth or /.well-known. Hashed assets
 * land in dist/assets/ and get a `.gz` and `.br` sibling here, so the server
 * can send them compressed without compressing per request.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);
const COMPRESSIBLE = /\.(js|css|svg|json|map|txt|ttf|eot)$/;

function precompress(): Plugin {
  return {
    name: 'berth-precompress',
    apply: 'build',
    async closeBundle() {
      const assets = join(root, 'dist', 'assets');
      for (const name of await readdir(assets)) {
        if (!COMPRESSIBLE.test(name)) continue;
        const path = join(assets, name);
        if ((await stat(path)).size < 1024) continue;
        const data = await readFile(path);
        await writeFile(`${path}.gz`, await gzipAsync(data, { level: 9 }));
        await writeFile(`${path}.br`, await brotliAsync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
      }
    },
  };
}

export default defineConfig({
  root,
  base: '/console/',
  publicDir: join(root, 'public'),
  build: {
    outDir: join(root, 'dist'),
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 4096,
    sourcemap: false,
    rolldownOptions: {
      // react-router marks its modules "use client" (for server components); meaningless in a browser bundle.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  plugins: [precompress()],
  server: {
    // `npm run dev:web`: the API comes from a `berth serve --insecure-http` on :5000.
    proxy: {
      '/apis': 'http://127.0.0.1:5000',
      '/oauth': 'http://127.0.0.1:5000',
      '/v2': 'http://127.0.0.1:5000',
    },
  },
});
