/**
 * Checks an email and password: the one place that decides whether a sign-in succeeds. Unknown
 * emails cost the same argon2 work as known ones, so timing does not tell which emails exist.
 */
import type { Models } from '../db/models/index.js';
import type { StaffUser } from '../realtime/agent/protocol.js';
import { isLocked, recordFailedLogin, recordSuccessfulLogin } from './lockout.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { presentUser, userIdFor } from './users.js';

export type LoginOutcome =
  | { ok: true; user: StaffUser }
  | { ok: false; reason: 'invalid' | 'disabled' }
  | { ok: false; reason: 'locked'; until: Date };

let dummyHash: Promise<string> | null = null;

export async function verifyLogin(
  models: Pick<Models, 'User'>,
  email: string,
  password: string,
): Promise<LoginOutcome> {
  const user = await models.User.findById(userIdFor(email)).select('+passwordHash').lean();
  if (!user) {
    dummyHash ??= hashPassword('not a real password, only for timing');
    await verifyPassword(await dummyHash, password);
    return { ok: false, reason: 'invalid' };
  }
  if (isLocked(user)) return { ok: false, reason: 'locked', until: user.lockedUntil! };
  if (!(await verifyPassword(user.passwordHash, password))) {
    const lockedUntil = await recordFailedLogin(models, user._id);
    return lockedUntil
      ? { ok: false, reason: 'locked', until: lockedUntil }
      : { ok: false, reason: 'invalid' };
  }
  if (user.disabledAt) return { ok: false, reason: 'disabled' };
  await recordSuccessfulLogin(models, user._id);
  return { ok: true, user: presentUser(user) };
}
