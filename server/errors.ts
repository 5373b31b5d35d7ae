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
      res.status(status).json({ ok: false, error: 'bad_request', message: (err as Error).message });
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'request failed');
    res.status(500).json({ ok: false, error: 'internal', message: 'Something went wrong on our side.' });
  };
}
