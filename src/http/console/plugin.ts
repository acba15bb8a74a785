/**
 * Serves the built web console (web/dist) from `berth serve` itself: `/`,
 * `/console` and every client-side route under `/console/` answer index.html
 * (so each console page has a URL that can be shared and reloaded), files
 * the build wrote under dist/ are served as they are. /v2, /apis, /oauth and
 * /.well-known are never touched: the console's own paths are all under
 * /console/ (the build's `base`).
 *
 * Caching: hashed files (dist/assets/, names carry a content hash) are
 * `immutable` for a year; index.html is `no-cache` so a new build is picked
 * up on the next load. Precompressed `.br`/`.gz` siblings written by the
 * build are sent when the client accepts them.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ConsolePluginOptions {
  /** The Vite build output (web/dist), holding index.html and assets/. */
  readonly distDir: string;
}

/** The URL prefix of every console page and file. */
export const CONSOLE_PREFIX = '/console';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.txt': 'text/plain; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=300';

/**
 * The page's own scripts and styles only. `style-src 'unsafe-inline'`: React
 * and PatternFly set style attributes (the layer bar's widths); no inline
 * script is needed. Frames are refused as on the OAuth pages.
 */
const CSP = "default-src 'self'; img-src 'self' data:; font-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Berth console not built</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}code{background:#f0f0f0;padding:.1rem .3rem}</style></head>
<body><h1>The Berth console has not been built</h1>
<p>This server has no built console to show. Build it with <code>npm run build</code> (or <code>npm install</code>, which builds it too) and reload this page.</p>
<p>The registry itself works: the OCI Distribution API is at <code>/v2/</code>, the resource API at <code>/apis/</code>.</p>
</body></html>
`;

type Resolved = { kind: 'file'; path: string; size: number } | { kind: 'missing' } | { kind: 'refused' };

/**
 * Maps a URL path under /console/ to a file inside distDir. Refuses (never
 * guesses) anything that decodes to a `..` segment, a backslash or a NUL,
 * and checks the resolved path still lies under distDir.
 */
async function resolveFile(distDir: string, relative: string): Promise<Resolved> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return { kind: 'refused' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { kind: 'refused' };
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return { kind: 'refused' };
  const path = resolve(distDir, ...segments.filter((s) => s !== ''));
  if (path !== distDir && !path.startsWith(distDir + sep)) return { kind: 'refused' };
  try {
    const info = await stat(path);
    return info.isFile() ? { kind: 'file', path, size: info.size } : { kind: 'missing' };
  } catch {
    return { kind: 'missing' };
  }
}

function acceptsEncoding(request: FastifyRequest, encoding: 'br' | 'gzip'): boolean {
  const header = request.headers['accept-encoding'];
  const value = Array.isArray(header) ? header.join(',') : header ?? '';
  return value.split(',').some((part) => {
    const [name, ...params] = part.trim().split(';');
    if (name?.trim().toLowerCase() !== encoding) return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

export async function consolePlugin(app: FastifyInstance, options: ConsolePluginOptions): Promise<void> {
  const distDir = resolve(options.distDir);
  const indexPath = resolve(distDir, 'index.html');

  async function sendFile(request: FastifyRequest, reply: FastifyReply, path: string, size: number, cacheControl: string): Promise<FastifyReply> {
    const type = CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    let sendPath = path;
    let sendSize = size;
    if (cacheControl === IMMUTABLE) {
      reply.header('Vary', 'Accept-Encoding');
      for (const [encoding, suffix] of [['br', '.br'], ['gzip', '.gz']] as const) {
        if (!acceptsEncoding(request, encoding)) continue;
        const info = await stat(path + suffix).catch(() => undefined);
        if (info?.isFile()) {
          sendPath = path + suffix;
          sendSize = info.size;
          reply.header('Content-Encoding', encoding);
          break;
        }
      }
    }
    reply
      .header('Content-Type', type)
      .header('Content-Length', String(sendSize))
      .header('Cache-Control', cacheControl)
      .header('X-Content-Type-Options', 'nosniff');
    if (request.method === 'HEAD') return reply.send();
    return reply.send(createReadStream(sendPath));
  }

  async function sendIndex(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const info = await stat(indexPath).catch(() => undefined);
    if (!info?.isFile()) {
      return reply.code(503).header('Content-Type', 'text/html; charset=utf-8').header('Cache-Control', 'no-store').header('Retry-After', '60').send(NOT_BUILT_PAGE);
    }
    reply
      .header('Content-Security-Policy', CSP)
      .header('X-Frame-Options', 'DENY')
      .header('Referrer-Policy', 'same-origin');
    return await sendFile(request, reply, indexPath, info.size, 'no-cache');
  }

  app.get('/', sendIndex);
  app.get(CONSOLE_PREFIX, sendIndex);
  app.get(`${CONSOLE_PREFIX}/*`, async (request, reply) => {
    // The raw path (not Fastify's decoded parameter), so encoded traversal is seen for what it is.
    const pathname = request.url.split('?', 1)[0] ?? '';
    const relative = pathname.slice(CONSOLE_PREFIX.length + 1);
    const found = await resolveFile(distDir, relative);
    if (found.kind === 'refused') return reply.code(404).header('Content-Type', 'text/plain; charset=utf-8').send('Not found\n');
    if (found.kind === 'file' && found.path !== indexPath) {
      return await sendFile(request, reply, found.path, found.size, relative.startsWith('assets/') ? IMMUTABLE : SHORT);
    }
    // A missing file under assets/ is a stale or wrong asset URL, not a page: say so rather than send HTML as script.
    // (Other paths may well end in ".12": tags and stream names have dots, so no extension guessing.)
    if (relative.startsWith('assets/')) {
      return reply.code(404).header('Content-Type', 'text/plain; charset=utf-8').send('Not found\n');
    }
    return await sendIndex(request, reply);
  });
}
