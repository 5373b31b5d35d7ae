/**
 * Who may call what: every REST endpoint and every console socket event declares its access, and
 * one function checks it. Endpoints are mounted only through `mountEndpoints`, so a route without
 * a policy cannot exist (tests/integration/api-policy.test.ts enumerates them to prove it).
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import type { Role } from '../db/models/user.js';
import { forbidden, unauthorized } from '../errors.js';
import type { StaffUser } from '../realtime/agent/protocol.js';

/** public: anyone; staff: any signed-in agent or admin; admin: admins only. */
export type Access = 'public' | 'staff' | 'admin';

const ROLE_ACCESS: Record<Role, ReadonlySet<Access>> = {
  admin: new Set(['public', 'staff', 'admin']),
  agent: new Set(['public', 'staff']),
};

/** Throws the 401 or 403 HttpError that `user` deserves for `access`; returns when allowed. */
export function checkAccess(user: StaffUser | undefined | null, access: Access): void {
  if (access === 'public') return;
  if (!user) throw unauthorized();
  if (!ROLE_ACCESS[user.role].has(access)) throw forbidden();
}

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Endpoint {
  method: Method;
  /** Express path under the router's mount point, e.g. "/conversations/:id". */
  path: string;
  access: Access;
  handler: (req: Request, res: Response) => Promise<void> | void;
}

/** Registers the endpoints on the router, each behind its access check; returns them for listing. */
export function mountEndpoints(router: Router, endpoints: readonly Endpoint[]): readonly Endpoint[] {
  for (const endpoint of endpoints) {
    const guard: RequestHandler = (req, _res, next) => {
      checkAccess(req.user, endpoint.access);
      next();
    };
    router[endpoint.method](endpoint.path, guard, async (req, res) => {
      await endpoint.handler(req, res);
    });
  }
  return endpoints;
}
