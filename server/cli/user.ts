import type { Command } from 'commander';
import { recordAudit } from '../audit.js';
import { generatePassword } from '../auth/passwords.js';
import { createUser } from '../auth/users.js';
import { ROLES, type Role } from '../db/models/user.js';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { HttpError } from '../errors.js';
import { CliError, printJson, say } from './output.js';

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

const role = (value: string): Role => {
  if (!(ROLES as readonly string[]).includes(value))
    throw new CliError(`--role: expected ${ROLES.join(' or ')}, got "${value}"`);
  return value as Role;
};

export function registerUser(program: Command): void {
  const user = program.command('user').description('console accounts: support agents and admins');

  user
    .command('add')
    .description(
      'add a console user; the first admin comes from here. Prints a generated password once, unless --password-stdin',
    )
    .requiredOption('--email <email>', 'sign-in email')
    .requiredOption('--role <role>', `${ROLES.join(' or ')}`, role)
    .option('--name <name>', 'display name (default: the part of the email before @)')
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .action(async (options: { email: string; role: Role; name?: string; passwordStdin?: boolean }) => {
      const password = options.passwordStdin ? await readStdin() : generatePassword();
      const env = loadEnv();
      const database = await openDatabase(env, { shareRunning: true });
      try {
        const created = await createUser(database.models, {
          email: options.email,
          name: options.name ?? options.email.split('@')[0] ?? options.email,
          role: options.role,
          password,
        });
        await recordAudit(database.models, {
          action: 'user.create',
          actor: { kind: 'cli' },
          target: { type: 'user', id: created.id },
          details: { email: created.email, role: created.role },
        });
        if (!options.passwordStdin) say(`Password for ${created.email} (shown once): ${password}`);
        printJson(created);
      } catch (error) {
        if (error instanceof HttpError) throw new CliError(error.message);
        throw error;
      } finally {
        await database.close();
      }
    });

  user
    .command('list')
    .description('list console users as JSON (never their password hashes)')
    .action(async () => {
      const env = loadEnv();
      const database = await openDatabase(env, { shareRunning: true, readOnly: true });
      try {
        const users = await database.models.User.find({}).sort({ email: 1 }).lean();
        printJson(
          users.map((u) => ({
            id: u._id.toHexString(),
            email: u.email,
            name: u.name,
            role: u.role,
            disabled: u.disabledAt != null,
          })),
        );
      } finally {
        await database.close();
      }
    });
}
