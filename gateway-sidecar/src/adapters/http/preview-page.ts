/**
 * The preview host at `/`: the Perspective component's preview page and bundle
 * (`perspective-component/preview/` and `perspective-component/dist/`) when they are built, else
 * our plain page (`./plain/`), which lists recommendations and critical alerts live. The plain
 * page stays reachable at `/plain/` either way.
 *
 * Demo token: when the demo generated a token (no auth configured), the HTML of the page carries it
 * in `<meta name="sidecar-token">` - but only for requests from a loopback address whose Host
 * header names a loopback host. The Host check defeats DNS rebinding (a foreign site resolving
 * its name to 127.0.0.1); being in the HTML, not in a script, keeps it out of reach of
 * cross-origin `<script src>` inclusion. Anyone with a shell on this machine can still read it:
 * that is the demo's accepted risk, and why production config names its own tokens.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router, type Request } from 'express';
import type { Logger } from '../../log.ts';

export interface PreviewOptions {
  /** perspective-component/preview (index.html + stand-in Perspective runtime). */
  readonly previewDir: string;
  /** perspective-component/dist (UMD bundle + css). */
  readonly distDir: string;
  /** Injected for loopback requests only; undefined outside the demo. */
  readonly demoToken?: string;
}

export const PLAIN_PAGE_DIR = fileURLToPath(new URL('./plain/', import.meta.url));

const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i;

export function isLoopbackRequest(req: Request): boolean {
  const address = req.socket.remoteAddress ?? '';
  const host = req.get('host') ?? '';
  return LOOPBACK_ADDRESSES.has(address) && LOOPBACK_HOST.test(host);
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function injectToken(html: string, token: string | undefined): string {
  if (token === undefined) return html;
  const meta = `<meta name="sidecar-token" content="${escapeAttr(token)}">`;
  return /<head[^>]*>/i.test(html)
    ? html.replace(/<head[^>]*>/i, (m) => `${m}\n    ${meta}`)
    : `${meta}\n${html}`;
}

export function previewRoutes(options: PreviewOptions, logger: Logger): Router {
  const router = Router();
  const componentIndex = join(options.previewDir, 'index.html');
  const plainIndex = join(PLAIN_PAGE_DIR, 'index.html');
  let announced = false;

  const sendPage =
    (file: string) =>
    (req: Request, res: express.Response): void => {
      const token = options.demoToken !== undefined && isLoopbackRequest(req) ? options.demoToken : undefined;
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.send(injectToken(readFileSync(file, 'utf8'), token));
    };

  router.get(['/', '/index.html'], (req, res) => {
    const useComponent = existsSync(componentIndex);
    if (!announced) {
      announced = true;
      logger.info({ page: useComponent ? componentIndex : plainIndex }, 'preview page served');
    }
    sendPage(useComponent ? componentIndex : plainIndex)(req, res);
  });
  router.get(['/plain', '/plain/', '/plain/index.html'], sendPage(plainIndex));
  router.use('/plain', express.static(PLAIN_PAGE_DIR, { index: false, fallthrough: true }));
  router.use('/dist', express.static(options.distDir, { index: false, fallthrough: true }));
  router.use(express.static(options.previewDir, { index: false, fallthrough: true }));
  router.use(express.static(options.distDir, { index: false, fallthrough: true }));
  return router;
}
