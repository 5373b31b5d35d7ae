/** Staff accounts: creating them, and how they leave the server. */
import type { ObjectId } from 'mongodb';
import { z } from 'zod';
import { deterministicId } from '../db/ids.js';
import type { Models } from '../db/models/index.js';
import { ROLES, type Role } from '../db/models/user.js';
import { badRequest, conflict } from '../errors.js';
import type { StaffUser } from '../realtime/agent/protocol.js';
import { describeIssues } from '../zod-issues.js';
import { hashPassword } from './passwords.js';

export type UserModels = Pick<Models, 'User'>;

/** `_id` derives from the lower-cased email, which makes emails unique. */
export const userIdFor = (email: string) => deterministicId('user', email.trim().toLowerCase());

/** NIST 800-63B: length over composition rules. */
export const MIN_PASSWORD_LENGTH = 12;

const newUser = z.strictObject({
  email: z.email({ error: 'expected an email address' }).max(254),
  name: z.string().trim().min(1).max(120),
  role: z.enum(ROLES),
  password: z
    .string()
    .min(MIN_PASSWORD_LENGTH, { error: `use at least ${MIN_PASSWORD_LENGTH} characters` })
    .max(256),
});

export type NewUser = z.input<typeof newUser>;

export async function createUser(models: UserModels, input: NewUser): Promise<StaffUser> {
  const parsed = newUser.safeParse(input);
  if (!parsed.success) throw badRequest(describeIssues(parsed.error, 'user'), 'invalid_user');
  const { email, name, role, password } = parsed.data;
  const _id = userIdFor(email);
  if (await models.User.exists({ _id }))
    throw conflict(`A user with the email ${email} exists already.`, 'user_exists');
  await models.User.create({ _id, email, name, role, passwordHash: await hashPassword(password) });
  return { id: _id.toHexString(), email: email.toLowerCase(), name, role };
}

export function presentUser(user: { _id: ObjectId; email: string; name: string; role: Role }): StaffUser {
  return { id: user._id.toHexString(), email: user.email, name: user.name, role: user.role };
}
