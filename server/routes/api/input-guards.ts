/** Checks every /api request gets before its endpoint parses it: Unicode in the body, path lengths. */
import type { RequestHandler } from 'express';
import type { Endpoint } from '../../auth/policy.js';
import { badRequest } from '../../errors.js';
import { brokenUnicodeMessage, findBrokenUnicode } from '../../unicode.js';

/** Longer than any name or id Parley makes; error messages quote path values, so they stay short. */
export const MAX_PATH_PARAM_CHARS = 200;

export const refuseBrokenUnicode: RequestHandler = (req, _res, next) => {
  const path = findBrokenUnicode(req.body);
  next(path ? badRequest(brokenUnicodeMessage(path), 'invalid_unicode') : undefined);
};

/** The endpoints, each refusing a path parameter over MAX_PATH_PARAM_CHARS before it runs. */
export function boundPathParams(endpoints: readonly Endpoint[]): Endpoint[] {
  return endpoints.map((endpoint) => ({
    ...endpoint,
    handler(req, res) {
      for (const [name, value] of Object.entries(req.params))
        if (String(value).length > MAX_PATH_PARAM_CHARS)
          throw badRequest(`${name}: at most ${MAX_PATH_PARAM_CHARS} characters`, 'bad_path');
      return endpoint.handler(req, res);
    },
  }));
}
