/** `parley model pull`, registered under `parley model` by server/cli/model.ts. */
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import { CliError, printJson, say } from '../../cli/output.js';
import { loadEnv } from '../../env.js';
import { type PullProgress, pullModel } from './pull.js';
import { DEFAULT_REVISION, HubError } from './repo.js';

function endpointUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {}
  throw new InvalidArgumentError(`expected an http:// or https:// URL, got "${value}"`);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** A byte progress bar on a terminal; elsewhere a plain line every few seconds. Always stderr. */
function progressReporter(stream: NodeJS.WriteStream = process.stderr) {
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format: 'pulling |{bar}| {percentage}% {doneText}/{totalText} | {file}',
      hideCursor: true,
    });
    let started = false;
    return {
      update(p: PullProgress) {
        const total = p.total ?? p.done;
        const payload = { file: p.file, doneText: formatBytes(p.done), totalText: formatBytes(total) };
        if (!started) bar.start(total, p.done, payload);
        else bar.update(p.done, payload);
        started = true;
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(p: PullProgress) {
      if (Date.now() - last < 2000) return;
      last = Date.now();
      const of = p.total === undefined ? '' : ` of ${formatBytes(p.total)}`;
      stream.write(`pulling: ${formatBytes(p.done)}${of} (${p.file})\n`);
    },
    stop() {},
  };
}

export function registerPull(model: Command): void {
  model
    .command('pull')
    .description(
      'download a model from the Hugging Face hub into PARLEY_DATA_DIR/models/<owner>--<name>[@revision]',
    )
    .argument('<repo>', 'model id on the hub, OWNER/NAME (e.g. HuggingFaceTB/SmolLM2-135M-Instruct)')
    .option('--revision <rev>', 'branch, tag or commit', DEFAULT_REVISION)
    .option('--endpoint <url>', 'hub to download from (default: HF_ENDPOINT)', endpointUrl)
    .option('--json', 'print {repo, revision, dir, files, bytes, architecture, commit, downloaded} on stdout')
    .addHelpText(
      'after',
      `
Only config.json, generation_config.json, the tokenizer files and *.safetensors weights (with their
index) are downloaded. Files are staged in PARLEY_DATA_DIR/models/.<dir>.partial and the directory is
renamed into place once every file matches its size and sha256 and the model's config and weight
headers parse. An interrupted pull resumes where it stopped when run again. HF_TOKEN is sent to the
hub for gated or private models.`,
    )
    .action(async (repo: string, options: { revision: string; endpoint?: string; json?: boolean }) => {
      const env = loadEnv();
      const progress = progressReporter();
      try {
        const result = await pullModel({
          repo,
          revision: options.revision,
          endpoint: options.endpoint ?? env.HF_ENDPOINT,
          token: env.HF_TOKEN,
          dataDir: env.PARLEY_DATA_DIR,
          onProgress: (p) => progress.update(p),
        });
        progress.stop();
        if (options.json) {
          const { repo: id, revision, dir, files, bytes, architecture, commit, downloaded } = result;
          printJson({ repo: id, revision, dir, files, bytes, architecture, commit, downloaded });
        } else {
          say(
            result.downloaded === 0 && result.commit === undefined
              ? `${repo} is already in ${result.dir} (${result.architecture})`
              : `pulled ${repo}@${options.revision} (${result.architecture}, ${result.files.length} files, ${formatBytes(result.bytes)}) into ${result.dir}`,
          );
          process.stdout.write(`${result.dir}\n`);
        }
      } catch (error) {
        progress.stop();
        if (error instanceof HubError) throw new CliError(error.message);
        throw error;
      }
    });
}
