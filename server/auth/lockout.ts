/**
 * Account lockout: after MAX_FAILURES wrong passwords in a row an account is locked for LOCK_MS,
 * whatever IP the attempts come from (per-IP limits are the login route's). A success resets it.
 */
import type { ObjectId } from 'mongodb';
import type { Models } from '../db/models/index.js';

export const MAX_FAILURES = 5;
export const LOCK_MS = 15 * 60 * 1000;

type LockoutModels = Pick<Models, 'User'>;

/** Counts a failure; locks the account when it reaches the limit. Returns the lock's end, if any. */
export async function recordFailedLogin(models: LockoutModels, userId: ObjectId): Promise<Date | null> {
  const user = await models.User.findOneAndUpdate(
    { _id: userId },
    { $inc: { failedLogins: 1 } },
    { returnDocument: 'after', projection: { failedLogins: 1 } },
  ).lean();
  if (!user || user.failedLogins < MAX_FAILURES) return null;
  const until = new Date(Date.now() + LOCK_MS);
  await models.User.updateOne({ _id: userId }, { $set: { lockedUntil: until, failedLogins: 0 } });
  return until;
}

export async function recordSuccessfulLogin(models: LockoutModels, userId: ObjectId): Promise<void> {
  await models.User.updateOne(
    { _id: userId },
    { $set: { failedLogins: 0, lockedUntil: null, lastLoginAt: new Date() } },
  );
}

export const isLocked = (user: { lockedUntil?: Date | null }, now = new Date()) =>
  user.lockedUntil != null && user.lockedUntil > now;
