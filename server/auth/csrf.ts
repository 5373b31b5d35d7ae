/**
 * CSRF protection for the console's session cookie: the synchronizer token pattern (csrf-sync).
 * The token lives in the session; GET /api/auth/session hands it out, and every POST, PUT, PATCH
 * and DELETE must send it back in X-CSRF-Token.
 */

import { csrfSync } from 'csrf-sync';
import type { Request, RequestHandler } from 'express';
import { HttpError } from '../errors.js';
import { CSRF_HEADER } from '../realtime/agent/protocol.js';

const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (req) => {
    const value = req.headers[CSRF_HEADER];
    return typeof value === 'string' ? value : undefined;
  },
});

const badToken = () =>
  new HttpError(
    403,
    'bad_csrf_token',
    'Missing or wrong CSRF token: send the csrfToken from GET /api/auth/session in the X-CSRF-Token header.',
  );

export const csrfProtection: RequestHandler = (req, res, next) => {
  csrfSynchronisedProtection(req, res, (error?: unknown) => next(error ? badToken() : undefined));
};

/** The session's token, made on first use; `renew` replaces it (after sign-in). */
export const csrfTokenFor = (req: Request, renew = false) => generateToken(req, renew);
