/**
 * /api: the console's REST API. Sessions and CSRF protection apply to every endpoint, and every
 * endpoint is mounted through the policy layer (server/auth/policy.ts) with its access.
 */
import express, { Router } from 'express';
import { csrfProtection } from '../../auth/csrf.js';
import { type Endpoint, mountEndpoints } from '../../auth/policy.js';
import type { StaffSessions } from '../../auth/session.js';
import type { ConversationEvents } from '../../conversations/events.js';
import type { Models } from '../../db/models/index.js';
import type { Env } from '../../env.js';
import type { AdminJobs } from '../../jobs/admin-jobs.js';
import type { RateLimiterFactory } from '../../rate-limiter.js';
import { adminEndpoints } from './admin.js';
import { authEndpoints } from './auth.js';
import { conversationEndpoints } from './conversations.js';
import { dataEndpoints } from './data.js';
import { boundPathParams, refuseBrokenUnicode } from './input-guards.js';
import { jobEndpoints } from './jobs.js';
import { registryEndpoints } from './registry.js';
import { siteEndpoints } from './sites.js';
import { sourceEndpoints } from './sources.js';

export interface ApiDeps {
  models: Models;
  sessions: StaffSessions;
  events: ConversationEvents;
  maxMessageChars: number;
  loginAttemptsPerMinute: number;
  /** Rate limiters: per process, or shared through Redis (REDIS_URL). */
  limiter: RateLimiterFactory;
  env: Pick<Env, 'PARLEY_GATE_LOSS_TOLERANCE' | 'PARLEY_GATE_R1_TOLERANCE' | 'PARLEY_PRIVACY_BUDGET_EPSILON'>;
  /** Where browsers reach Parley (embed snippets). */
  publicUrl: () => string;
  /** Makes this process's chat engine pick up a promotion or rollback now. */
  refreshServing: () => Promise<unknown>;
  /** Runs the long work admins start (ingestion, dataset builds, training). */
  jobs: AdminJobs;
}

export const API_PREFIX = '/api';

export function apiRoutes(deps: ApiDeps): { router: Router; endpoints: readonly Endpoint[] } {
  const router = Router();
  router.use(express.json({ limit: '64kb' }), refuseBrokenUnicode);
  router.use(...deps.sessions.middleware);
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.use(csrfProtection);
  const endpoints = mountEndpoints(
    router,
    boundPathParams([
      ...authEndpoints(deps),
      ...conversationEndpoints(deps),
      ...adminEndpoints(deps),
      ...registryEndpoints({
        ...deps,
        tolerances: { loss: deps.env.PARLEY_GATE_LOSS_TOLERANCE, r1: deps.env.PARLEY_GATE_R1_TOLERANCE },
      }),
      ...siteEndpoints(deps),
      ...dataEndpoints(deps),
      ...jobEndpoints(deps),
      ...sourceEndpoints(deps),
    ]),
  );
  return { router, endpoints };
}
