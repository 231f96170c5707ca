/**
 * The one Express error middleware (STYLE.md §4): maps SidecarError to its status and
 * `{code, message}`, turns body-parser failures into catalogue codes, logs 4xx at info and
 * anything unknown as a 500 at error with the error under `err`.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ERRORS, SidecarError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { REFUSAL_CODE } from './refusals.ts';

/** Shape of the errors body-parser raises (it sets `type` and `status`). */
interface BodyParserError {
  readonly type?: unknown;
  readonly status?: unknown;
  readonly limit?: unknown;
}

function fromBodyParser(err: unknown): SidecarError | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as BodyParserError;
  if (e.type === 'entity.too.large') {
    return new SidecarError(
      ERRORS.API_PAYLOAD_TOO_LARGE,
      `request body is larger than the ${String(e.limit)} byte limit`,
    );
  }
  if (e.type === 'entity.parse.failed') {
    return new SidecarError(ERRORS.API_VALIDATION, 'body: request body is not valid JSON');
  }
  if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
    return new SidecarError(ERRORS.API_VALIDATION, 'body: unsupported charset or content encoding');
  }
  return undefined;
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      // The response is already streaming (SSE); Express closes the connection for us.
      next(err);
      return;
    }
    const known = err instanceof SidecarError ? err : fromBodyParser(err);
    if (known && known.status !== undefined && known.status < 500) {
      logger.info(
        { code: known.code, method: req.method, path: req.path, status: known.status },
        'request refused',
      );
      if (known.code === ERRORS.API_UNAUTHENTICATED.code || known.code.startsWith('SC_ERR_IDENTITY')) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="sidecar"');
      }
      (res.locals as Record<string, unknown>)[REFUSAL_CODE] = known.code;
      res.status(known.status).json({ code: known.code, message: known.message });
      return;
    }
    if (known && known.status !== undefined) {
      logger.warn({ err: known, method: req.method, path: req.path }, 'request failed');
      res.status(known.status).json({ code: known.code, message: known.message });
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'unhandled error in request');
    res.status(500).json({ code: ERRORS.API_INTERNAL.code, message: 'internal error; see the sidecar log' });
  };
}

/** Unknown routes answer 404 in the same `{code, message}` shape. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new SidecarError(ERRORS.API_NOT_FOUND, `no route for ${req.method} ${req.baseUrl}${req.path}`));
};
