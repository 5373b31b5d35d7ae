import { Command, CommanderError } from 'commander';
import { describeEnv, EnvError } from '../env.js';
import { registerAnonymize } from './anonymize.js';
import { registerDataset } from './dataset.js';
import { registerDbStatus } from './db-status.js';
import { registerEval } from './eval.js';
import { registerIngest } from './ingest.js';
import { registerModel } from './model.js';
import { CliError } from './output.js';
import { registerPii } from './pii.js';
import { registerPrivacy } from './privacy.js';
import { registerSeed } from './seed.js';
import { registerServe } from './serve.js';
import { registerSite } from './site.js';
import { registerSource } from './source.js';
import { registerStarter } from './starter.js';
import { registerTrain } from './train.js';
import { registerUser } from './user.js';
import { registerVersions } from './versions.js';
import { registerWorker } from './worker.js';

export function buildProgram(): Command {
  const program = new Command('parley')
    .description('Parley: customer-service chatbots that learn from your own support logs.')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerServe(program);
  registerSeed(program);
  registerDbStatus(program);
  registerPii(program);
  registerAnonymize(program);
  registerSource(program);
  registerSite(program);
  registerIngest(program);
  registerDataset(program);
  registerTrain(program);
  registerWorker(program);
  registerEval(program);
  registerVersions(program);
  registerPrivacy(program);
  registerModel(program);
  registerStarter(program);
  registerUser(program);
  program.addHelpText(
    'after',
    `\nEnvironment:\n${describeEnv()
      .map(
        (v) =>
          `  ${v.variable.padEnd(28)} ${v.description}${v.default === undefined ? '' : ` (default: ${v.default})`}`,
      )
      .join('\n')}`,
  );
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof EnvError || error instanceof CliError) {
      process.stderr.write(`parley: ${error.message}\n`);
      return error instanceof CliError ? error.exitCode : 1;
    }
    process.stderr.write(`parley: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
