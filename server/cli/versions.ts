import type { Command } from 'commander';
import { openDatabase } from '../db/open.js';
import { type Env, loadEnv } from '../env.js';
import { HttpError } from '../errors.js';
import { deleteVersion } from '../registry/delete.js';
import { presentVersion } from '../registry/present.js';
import { GateError, promoteVersion, rollback } from '../registry/promote.js';
import { CliError, printJson } from './output.js';

const tolerances = (env: Env) => ({ loss: env.PARLEY_GATE_LOSS_TOLERANCE, r1: env.PARLEY_GATE_R1_TOLERANCE });

/** Registry errors are messages for the person at the terminal. */
function asCliError(error: unknown): never {
  if (error instanceof GateError || error instanceof HttpError) throw new CliError(error.message);
  throw error;
}

export function registerVersions(program: Command): void {
  const versions = program
    .command('versions')
    .description('list model versions, newest first, with status, metrics and privacy spend')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const env = loadEnv();
      const db = await openDatabase(env, { shareRunning: true, readOnly: true });
      try {
        const versions = (await db.models.ModelVersion.find({}).sort({ createdAt: -1 }).lean()).map(
          presentVersion,
        );
        if (flags.json) printJson(versions);
        else {
          for (const v of versions) {
            const metrics = v.metrics as { validationLoss?: number; ranking?: { r1?: number } };
            const loss = metrics.validationLoss;
            const r1 = metrics.ranking?.r1;
            const epsilon = (v.privacy as { epsilon?: number } | null)?.epsilon;
            process.stdout.write(
              `${v.version.padEnd(6)} ${v.status.padEnd(9)} ${loss === undefined ? '' : `val loss ${loss.toFixed(4)}  `}` +
                `${typeof r1 === 'number' ? `R@1 ${r1.toFixed(3)}  ` : ''}` +
                `${typeof epsilon === 'number' ? `ε ${epsilon.toFixed(2)}  ` : ''}` +
                `${v.comparison ? `compared with ${v.comparison.against}  ` : ''}${v.artifactPath}\n`,
            );
          }
          if (versions.length === 0)
            process.stdout.write('No model versions yet: train one with `parley train`.\n');
        }
      } finally {
        await db.close();
      }
    });

  versions
    .command('delete')
    .description(
      'delete a version (never the active one) and its model directory, unless another version or the base model uses it',
    )
    .argument('<version>', 'version label (v3) or id')
    .option('--keep-files', 'remove the version from the registry but leave its directory')
    .action(async (version: string, flags: { keepFiles?: boolean }) => {
      const env = loadEnv();
      const db = await openDatabase(env, { shareRunning: true });
      try {
        printJson(
          await deleteVersion(db.models, version, {
            actor: { kind: 'cli' },
            dataDir: env.PARLEY_DATA_DIR,
            keepDirs: [env.PARLEY_BASE_MODEL],
            keepFiles: flags.keepFiles === true,
          }).catch(asCliError),
        );
      } finally {
        await db.close();
      }
    });

  program
    .command('promote')
    .description('make a version the one serving live chats, if the promotion gate passes')
    .argument('<version>', 'version label (v3) or id')
    .option('--override <reason>', 'promote although the gate blocks it; the reason is audited')
    .action(async (version: string, flags: { override?: string }) => {
      const env = loadEnv();
      const db = await openDatabase(env, { shareRunning: true });
      try {
        const result = await promoteVersion(db.models, version, {
          tolerances: tolerances(env),
          override: flags.override,
          actor: { kind: 'cli' },
        }).catch(asCliError);
        printJson(result);
      } finally {
        await db.close();
      }
    });

  program
    .command('rollback')
    .description('make the previously active version active again')
    .action(async () => {
      const env = loadEnv();
      const db = await openDatabase(env, { shareRunning: true });
      try {
        printJson(await rollback(db.models, { kind: 'cli' }).catch(asCliError));
      } finally {
        await db.close();
      }
    });
}
