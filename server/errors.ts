import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from './logger.js';

/** An error meant for the client: its id and message are safe to show. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
    /** Machine-readable fields sent next to the message (e.g. a gate's failures). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, id = 'bad_request') => new HttpError(400, id, message);
export const unauthorized = (message = 'Sign in first.') => new HttpError(401, 'unauthorized', message);
export const forbidden = (message = 'Your role does not allow this.') =>
  new HttpError(403, 'forbidden', message);
export const notFound = (message = 'Not found.', id = 'not_found') => new HttpError(404, id, message);
export const conflict = (message: string, id = 'conflict') => new HttpError(409, id, message);
export const unavailable = (message: string, id = 'unavailable') => new HttpError(503, id, message);

export const notFoundRoute: RequestHandler = (req, _res, next) => {
  next(notFound(`No route for ${req.method} ${req.path}.`));
};

/** body-parser's errors by `type`, in words that do not quote the body back. */
const BODY_PARSER_ERRORS: Record<string, { id: string; message: string }> = {
  'entity.too.large': {
    id: 'body_too_large',
    message: 'The request body is larger than this endpoint accepts.',
  },
  'entity.parse.failed': { id: 'invalid_json', message: 'The request body is not valid JSON (an object).' },
  'charset.unsupported': { id: 'unsupported_charset', message: 'Send the request body as UTF-8 JSON.' },
  'encoding.unsupported': {
    id: 'unsupported_encoding',
    message: 'The request body has an unsupported encoding.',
  },
  'entity.verify.failed': { id: 'bad_request', message: 'The request body was refused.' },
  'request.aborted': { id: 'request_aborted', message: 'The request was aborted before its body arrived.' },
  'request.size.invalid': {
    id: 'bad_request',
    message: 'The request body does not match its Content-Length.',
  },
};

/** The one error handler: renders { ok:false, error, message } and logs what the client does not see. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ ...err.details, ok: false, error: err.id, message: err.message });
      return;
    }
    const status =
      typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    if (status >= 400 && status < 500) {
      // Body-parser and similar middleware raise client errors with a status and a safe message.
      const known = BODY_PARSER_ERRORS[(err as { type?: string }).type ?? ''];
      res.status(status).json({
        ok: false,
        error: known?.id ?? 'bad_request',
        message: known?.message ?? (err as Error).message,
      });
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'request failed');
    res.status(500).json({ ok: false, error: 'internal', message: 'Something went wrong on our side.' });
  };
}
