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
import { adminEndpoints } from './admin.js';
import { authEndpoints } from './auth.js';
import { conversationEndpoints } from './conversations.js';

export interface ApiDeps {
  models: Models;
  sessions: StaffSessions;
  events: ConversationEvents;
  maxMessageChars: number;
  loginAttemptsPerMinute: number;
}

export const API_PREFIX = '/api';

export function apiRoutes(deps: ApiDeps): { router: Router; endpoints: readonly Endpoint[] } {
  const router = Router();
  router.use(express.json({ limit: '64kb' }));
  router.use(...deps.sessions.middleware);
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.use(csrfProtection);
  const endpoints = mountEndpoints(router, [
    ...authEndpoints(deps),
    ...conversationEndpoints(deps),
    ...adminEndpoints(deps),
  ]);
  return { router, endpoints };
}
