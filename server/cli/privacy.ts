import { type Command, InvalidArgumentError } from 'commander';
import { Types } from 'mongoose';
import { openDatabase } from '../db/open.js';
import { loadEnv } from '../env.js';
import { noiseForTarget } from '../privacy/dp/calibrate.js';
import { cumulativeSpend, type LedgerScope, privacyBudgetFromEnv } from '../privacy/dp/ledger.js';
import { accountantNames, createAccountant } from '../privacy/dp/registry.js';
import { CliError } from './output.js';

/** One JSON line on stdout: these commands feed scripts. */
function printLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function number(value: string, expected: string, ok: (n: number) => boolean): number {
  const parsed = value.trim() === '' ? Number.NaN : Number(value);
  if (!(Number.isFinite(parsed) && ok(parsed)))
    throw new InvalidArgumentError(`expected ${expected}, got "${value}"`);
  return parsed;
}

export const sampleRate = (v: string) => number(v, 'a sampling rate q in (0, 1]', (n) => n > 0 && n <= 1);
export const noiseMultiplier = (v: string) => number(v, 'a noise multiplier σ > 0', (n) => n > 0);
export const steps = (v: string) =>
  number(v, 'a positive integer number of steps', (n) => Number.isInteger(n) && n > 0);
export const delta = (v: string) => number(v, 'δ in (0, 1)', (n) => n > 0 && n < 1);
export const targetEpsilon = (v: string) => number(v, 'a target ε > 0', (n) => n > 0);

export function accountantName(value: string): string {
  if (!accountantNames().includes(value)) {
    throw new InvalidArgumentError(`unknown accountant "${value}"; known: ${accountantNames().join(', ')}`);
  }
  return value;
}

function objectId(value: string): string {
  if (!Types.ObjectId.isValid(value) || !/^[0-9a-f]{24}$/i.test(value)) {
    throw new InvalidArgumentError(`expected a dataset id (24 hex digits), got "${value}"`);
  }
  return value;
}

function scope(value: string): LedgerScope {
  if (value !== 'snapshot' && value !== 'population') {
    throw new InvalidArgumentError('expected snapshot or population');
  }
  return value;
}

interface MechanismOptions {
  sampleRate: number;
  steps: number;
  delta: number;
  accountant: string;
}

/** The flags both `epsilon` and `noise` describe a DP-SGD run with. */
function withMechanismOptions(command: Command): Command {
  return command
    .requiredOption(
      '--sample-rate <q>',
      'probability that an example (or customer) is in a batch, in (0, 1]',
      sampleRate,
    )
    .requiredOption('--steps <n>', 'number of training steps', steps)
    .requiredOption('--delta <d>', 'target δ, in (0, 1)', delta)
    .option(
      '--accountant <name>',
      `privacy accountant: ${accountantNames().join(', ')}`,
      accountantName,
      'rdp',
    );
}

export function registerPrivacy(program: Command): void {
  const privacy = program
    .command('privacy')
    .description('differential privacy: ε of a DP-SGD run, noise for a target ε, the privacy ledger');

  withMechanismOptions(
    privacy
      .command('epsilon')
      .description(
        'print {"epsilon", "alpha", "accountant"} for N steps of the Poisson-subsampled Gaussian mechanism',
      )
      .requiredOption('--noise-multiplier <sigma>', 'noise std over the clip norm, > 0', noiseMultiplier),
  ).action((options: MechanismOptions & { noiseMultiplier: number }) => {
    const accountant = createAccountant(options.accountant);
    accountant.step(
      { noiseMultiplier: options.noiseMultiplier, sampleRate: options.sampleRate },
      options.steps,
    );
    const { epsilon, alpha } = accountant.getPrivacySpent(options.delta);
    if (!Number.isFinite(epsilon)) throw new CliError('ε is unbounded for these parameters: add noise');
    printLine({ epsilon, alpha, accountant: accountant.name });
  });

  withMechanismOptions(
    privacy
      .command('noise')
      .description(
        'print {"noiseMultiplier", "epsilon"}: the smallest σ (within 1%) that keeps ε at or below a target',
      )
      .requiredOption('--target-epsilon <e>', 'the ε to stay within, > 0', targetEpsilon),
  ).action((options: MechanismOptions & { targetEpsilon: number }) => {
    try {
      printLine(noiseForTarget(options));
    } catch (error) {
      throw new CliError(error instanceof Error ? error.message : String(error));
    }
  });

  privacy
    .command('ledger')
    .description('print the cumulative (ε, δ) of every model version trained on data overlapping a dataset')
    .requiredOption('--dataset <id>', 'dataset id', objectId)
    .option(
      '--scope <scope>',
      'snapshot (same source, overlapping dates) or population (same source)',
      scope,
      'snapshot',
    )
    .action(async (options: { dataset: string; scope: LedgerScope }) => {
      const env = loadEnv();
      const db = await openDatabase(env, { shareRunning: true, readOnly: true });
      try {
        const spent = await cumulativeSpend(db.models, options.dataset, { scope: options.scope }).catch(
          (error) => {
            throw new CliError(error instanceof Error ? error.message : String(error));
          },
        );
        const budget = privacyBudgetFromEnv(env);
        printLine({
          ...spent,
          budget: budget.epsilon ?? null,
          remaining: budget.epsilon === undefined ? null : budget.epsilon - spent.epsilon,
        });
      } finally {
        await db.close();
      }
    });
}
