/**
 * Staff sessions: express-session on the `sessions` collection, and passport on top of it, which
 * keeps only the user id in the session and reloads the user (refusing disabled ones) per request.
 */
import type { RequestHandler } from 'express';
import session from 'express-session';
import { ObjectId } from 'mongodb';
import passport from 'passport';
import type { Models } from '../db/models/index.js';
import type { StaffUser } from '../realtime/agent/protocol.js';
import { MongoSessionStore } from './session-store.js';
import { presentUser } from './users.js';

export const SESSION_COOKIE = 'parley.sid';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

declare global {
  namespace Express {
    interface User extends StaffUser {}
  }
}

export interface StaffSessions {
  /** express-session, then passport's session strategy. */
  middleware: RequestHandler[];
  store: MongoSessionStore;
  passport: passport.PassportStatic;
}

export function staffSessions(models: Pick<Models, 'Session' | 'User'>, secret: string): StaffSessions {
  const store = new MongoSessionStore(models);
  const authenticator = new passport.Passport() as unknown as passport.PassportStatic;
  authenticator.serializeUser<string>((user, done) => done(null, (user as StaffUser).id));
  authenticator.deserializeUser<string>((id, done) => {
    if (!ObjectId.isValid(id)) return done(null, false);
    models.User.findById(new ObjectId(id))
      .lean()
      .then((user) => done(null, user && !user.disabledAt ? presentUser(user) : false))
      .catch((error: unknown) => done(error));
  });
  const sessionMiddleware = session({
    name: SESSION_COOKIE,
    secret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    // secure 'auto': Secure whenever the request came over TLS (directly or via a trusted proxy).
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: SESSION_TTL_MS },
  });
  return {
    middleware: [sessionMiddleware, authenticator.initialize(), authenticator.session()],
    store,
    passport: authenticator,
  };
}
