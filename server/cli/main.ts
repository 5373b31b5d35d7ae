import { Command, CommanderError } from 'commander';
import { describeEnv, EnvError } from '../env.js';
import { CliError } from './output.js';

type Register = (program: Command) => void;

/**
 * Where each top-level command is defined, loaded only when it runs: `parley user list` need not
 * load tfjs, Express and transformers.js first (seconds on every start). In help order.
 */
const COMMANDS: [names: string[], load: () => Promise<Register>][] = [
  [['serve'], () => import('./serve.js').then((m) => m.registerServe)],
  [['seed'], () => import('./seed.js').then((m) => m.registerSeed)],
  [['db'], () => import('./db-status.js').then((m) => m.registerDbStatus)],
  [['pii'], () => import('./pii.js').then((m) => m.registerPii)],
  [['anonymize'], () => import('./anonymize.js').then((m) => m.registerAnonymize)],
  [['source'], () => import('./source.js').then((m) => m.registerSource)],
  [['site'], () => import('./site.js').then((m) => m.registerSite)],
  [['ingest'], () => import('./ingest.js').then((m) => m.registerIngest)],
  [['dataset'], () => import('./dataset.js').then((m) => m.registerDataset)],
  [['train'], () => import('./train.js').then((m) => m.registerTrain)],
  [['worker'], () => import('./worker.js').then((m) => m.registerWorker)],
  [['eval'], () => import('./eval.js').then((m) => m.registerEval)],
  [['versions', 'promote', 'rollback'], () => import('./versions.js').then((m) => m.registerVersions)],
  [['privacy'], () => import('./privacy.js').then((m) => m.registerPrivacy)],
  [['model'], () => import('./model.js').then((m) => m.registerModel)],
  [['starter'], () => import('./starter.js').then((m) => m.registerStarter)],
  [['user'], () => import('./user.js').then((m) => m.registerUser)],
];

/** The top-level command names, for tests that check the table against the modules. */
export const COMMAND_NAMES = COMMANDS.flatMap(([names]) => names);

/**
 * The program with the commands `argv` can reach: just the one it names, or all of them for
 * top-level help, `help` and a name that is not a command (so the error can suggest one).
 */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('parley')
    .description('Parley: customer-service chatbots that learn from your own support logs.')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  const named = argv.slice(2).find((arg) => !arg.startsWith('-'));
  const wanted = COMMANDS.filter(([names]) => named !== undefined && names.includes(named));
  for (const [, load] of wanted.length > 0 ? wanted : COMMANDS) (await load())(program);
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
    await (await buildProgram(argv)).parseAsync(argv);
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
