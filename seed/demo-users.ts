/** Demo staff accounts with generated passwords: never a hard-coded one, never in production. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generatePassword, hashPassword } from '../server/auth/passwords.js';
import { userIdFor } from '../server/auth/users.js';
import type { Models } from '../server/db/models/index.js';
import type { Role } from '../server/db/models/user.js';

export const DEMO_USERS: readonly { email: string; name: string; role: Role }[] = [
  { email: 'admin@parley.local', name: 'Demo Admin', role: 'admin' },
  { email: 'agent@parley.local', name: 'Demo Agent', role: 'agent' },
];

export const CREDENTIALS_FILE = 'demo-credentials.json';

export interface DemoCredential {
  email: string;
  role: Role;
  password: string;
}

/**
 * Creates the demo users that do not exist yet. New passwords are returned (to print once) and
 * written to PARLEY_DATA_DIR/demo-credentials.json (mode 0600) so they are not lost with the log.
 */
export async function ensureDemoUsers(
  models: Models,
  dataDir: string,
): Promise<{ created: DemoCredential[]; existing: string[]; credentialsFile: string }> {
  const created: DemoCredential[] = [];
  const existing: string[] = [];
  for (const user of DEMO_USERS) {
    const _id = userIdFor(user.email);
    if (await models.User.exists({ _id })) {
      existing.push(user.email);
      continue;
    }
    const password = generatePassword();
    await models.User.create({ _id, ...user, passwordHash: await hashPassword(password) });
    created.push({ email: user.email, role: user.role, password });
  }
  const credentialsFile = path.join(dataDir, CREDENTIALS_FILE);
  if (created.length > 0) {
    await writeFile(credentialsFile, `${JSON.stringify({ users: created }, null, 2)}\n`, { mode: 0o600 });
  }
  return { created, existing, credentialsFile };
}
