/** Sign-in, sign-out and the session: POST /api/auth/login, POST /api/auth/logout, GET /api/auth/session. */
import type { Request } from 'express';
import { Strategy as LocalStrategy } from 'passport-local';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { z } from 'zod';
import { recordAudit } from '../../audit.js';
import { csrfTokenFor } from '../../auth/csrf.js';
import type { Endpoint } from '../../auth/policy.js';
import type { StaffSessions } from '../../auth/session.js';
import { type LoginOutcome, verifyLogin } from '../../auth/verify-login.js';
import type { Models } from '../../db/models/index.js';
import { badRequest, HttpError } from '../../errors.js';
import type { RateLimiterFactory } from '../../rate-limiter.js';
import type { SessionInfo, StaffUser } from '../../realtime/agent/protocol.js';

/** Strings only: `{"$gt": ""}` and friends never reach a query. */
const loginBody = z.strictObject({
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(256),
});

const tooMany = (message: string) => new HttpError(429, 'too_many_attempts', message);
const minutes = (ms: number) => Math.max(1, Math.ceil(ms / 60_000));

export function authEndpoints(deps: {
  models: Pick<Models, 'User' | 'AuditEvent'>;
  sessions: StaffSessions;
  /** Sign-in attempts per IP per minute, whatever the account. */
  loginAttemptsPerMinute: number;
  /** Counts in this process, or across servers (REDIS_URL). */
  limiter: RateLimiterFactory;
}): Endpoint[] {
  const { models, sessions } = deps;
  const attempts = deps.limiter({
    name: 'login-attempts',
    points: deps.loginAttemptsPerMinute,
    durationSeconds: 60,
  });
  sessions.passport.use(
    new LocalStrategy({ usernameField: 'email', passwordField: 'password' }, (email, password, done) => {
      verifyLogin(models, email, password).then(
        (outcome) =>
          outcome.ok ? done(null, outcome.user) : done(null, false, { message: outcome.reason, ...outcome }),
        (error: unknown) => done(error),
      );
    }),
  );

  const authenticate = (req: Request) =>
    new Promise<{ user: StaffUser | false; outcome: LoginOutcome | undefined }>((resolve, reject) => {
      sessions.passport.authenticate(
        'local',
        (error: unknown, user: StaffUser | false, info?: LoginOutcome) =>
          error ? reject(error) : resolve({ user, outcome: info }),
      )(req, req.res!, reject);
    });

  const sessionInfo = (req: Request, renew = false): SessionInfo => ({
    user: req.user ?? null,
    csrfToken: csrfTokenFor(req, renew),
  });

  return [
    {
      method: 'get',
      path: '/auth/session',
      access: 'public',
      handler: (req, res) => {
        res.set('Cache-Control', 'no-store').json(sessionInfo(req));
      },
    },
    {
      method: 'post',
      path: '/auth/login',
      access: 'public',
      async handler(req, res) {
        const body = loginBody.safeParse(req.body);
        if (!body.success) throw badRequest('Give an email and a password, as text.', 'invalid_login');
        try {
          await attempts.consume(req.ip ?? 'unknown');
        } catch (rejection) {
          if (rejection instanceof RateLimiterRes)
            throw tooMany(
              `Too many sign-in attempts; try again in ${minutes(rejection.msBeforeNext)} minute(s).`,
            );
          throw rejection;
        }
        req.body = body.data;
        const { user, outcome } = await authenticate(req);
        if (!user) {
          await recordAudit(models, {
            action: 'auth.login.failed',
            actor: { kind: 'system', email: body.data.email.toLowerCase() },
            details: { reason: outcome && !outcome.ok ? outcome.reason : 'invalid' },
          });
          if (outcome && !outcome.ok && outcome.reason === 'locked')
            throw tooMany(
              `This account is locked after too many wrong passwords; try again in ${minutes(outcome.until.getTime() - Date.now())} minute(s).`,
            );
          if (outcome && !outcome.ok && outcome.reason === 'disabled')
            throw new HttpError(403, 'account_disabled', 'This account is disabled; ask an admin.');
          throw new HttpError(401, 'invalid_login', 'Wrong email or password.');
        }
        // passport regenerates the session on login (no fixation); the CSRF token is renewed with it.
        await new Promise<void>((resolve, reject) =>
          req.login(user, (error) => (error ? reject(error) : resolve())),
        );
        await recordAudit(models, { action: 'auth.login', actor: user });
        res.json(sessionInfo(req, true));
      },
    },
    {
      method: 'post',
      path: '/auth/logout',
      access: 'staff',
      async handler(req, res) {
        const user = req.user!;
        await new Promise<void>((resolve, reject) =>
          req.logout((error) => (error ? reject(error) : resolve())),
        );
        await recordAudit(models, { action: 'auth.logout', actor: user });
        res.json(sessionInfo(req, true));
      },
    },
  ];
}
