/**
 * The only reader of process.env. Every variable Parley understands is declared here, with its
 * default and a one-line description (the README's configuration table is checked against it).
 */
import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const TFJS_BACKENDS = ['auto', 'node-gpu', 'webgpu', 'node', 'wasm', 'cpu'] as const;
/** What generates live chat replies (server/serving/served-model.ts). */
export const SERVING_RUNTIMES = ['auto', 'onnx', 'tfjs'] as const;

const port = (what: string) =>
  z.coerce
    .number({ error: `expected ${what} as an integer from 0 to 65535` })
    .int({ error: `expected ${what} as an integer from 0 to 65535` })
    .min(0, { error: `expected ${what} as an integer from 0 to 65535` })
    .max(65535, { error: `expected ${what} as an integer from 0 to 65535` });

/** A store URL (scheme://…) is kept as it is; anything else is a directory. */
const STORE_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

const booleanFlag = z.stringbool({ error: 'expected true/false (also accepted: 1/0, yes/no, on/off)' });

/** Variable name -> schema. `.describe()` texts are the documentation. */
export const envShape = {
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe('development, production or test. Production never creates demo users or passwords.'),
  PORT: port('a port').default(3000).describe('HTTP and Socket.IO port. 0 picks a free port.'),
  HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Interface to listen on. Use 0.0.0.0 to accept connections from other machines.'),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, {
      error: 'expected a mongodb:// or mongodb+srv:// connection string',
    })
    .optional()
    .describe(
      'MongoDB for Parley itself (any MongoDB >= 6, Atlas included). Unset: an embedded server starts.',
    ),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, { error: 'expected a redis:// or rediss:// URL' })
    .optional()
    .describe(
      'Redis that several Parley servers share: Socket.IO rooms, rate limits, which process answers a chat. Unset: one process, nothing shared.',
    ),
  PARLEY_DATA_DIR: z
    .string()
    .min(1)
    .default('./data')
    .describe('Models, checkpoints, the embedded database snapshot and the generated session secret.'),
  SESSION_SECRET: z
    .string()
    .min(32, { error: 'expected at least 32 characters' })
    .optional()
    .describe('Signs session cookies and visitor tokens. Unset: generated once and kept in PARLEY_DATA_DIR.'),
  LOG_LEVEL: z
    .enum(LOG_LEVELS)
    .default('info')
    .describe(`One of ${LOG_LEVELS.join(', ')}.`),
  LOG_FORMAT: z
    .enum(['auto', 'json', 'pretty'])
    .default('auto')
    .describe('auto prints readable lines on a terminal and JSON lines otherwise.'),
  TFJS_BACKEND: z
    .enum(TFJS_BACKENDS)
    .default('auto')
    .describe(
      `Tensor backend: ${TFJS_BACKENDS.join(', ')}. auto tries tfjs-node-gpu, WebGPU on a real GPU, tfjs-node, wasm, then cpu.`,
    ),
  PARLEY_DEMO: booleanFlag
    .optional()
    .describe(
      'Seed the demo source, demo users and demo page data on first start. Default: on with the embedded database outside production.',
    ),
  PARLEY_BASE_MODEL: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Base model directory (Hugging Face layout) datasets are rendered for and training starts from. Default: PARLEY_DATA_DIR/models/starter.',
    ),
  PARLEY_SYSTEM_PROMPT: z
    .string()
    .min(1)
    .default('You are a helpful, friendly customer-service assistant.')
    .describe(
      "The system prompt every training example and live chat starts with: the company's name and tone.",
    ),
  PARLEY_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
    .optional()
    .describe(
      "Where visitors' browsers reach Parley (behind a proxy: its public https address); embed snippets point here. Default: http://HOST:PORT.",
    ),
  PARLEY_DEMO_PORT: port('a port')
    .optional()
    .describe(
      'Port of the demo company site that embeds the widget from a second origin (with PARLEY_DEMO). Default: PORT + 1, or a free port when PORT is 0.',
    ),
  PARLEY_WIDGET_MAX_MESSAGE_CHARS: z.coerce
    .number({ error: 'expected an integer from 1 to 100000' })
    .int({ error: 'expected an integer from 1 to 100000' })
    .min(1, { error: 'expected an integer from 1 to 100000' })
    .max(100000, { error: 'expected an integer from 1 to 100000' })
    .default(2000)
    .describe('Longest message a widget visitor may send, in characters.'),
  PARLEY_WIDGET_MESSAGES_PER_MINUTE: z.coerce
    .number({ error: 'expected an integer from 1 to 100000' })
    .int({ error: 'expected an integer from 1 to 100000' })
    .min(1, { error: 'expected an integer from 1 to 100000' })
    .max(100000, { error: 'expected an integer from 1 to 100000' })
    .default(20)
    .describe('Messages one widget visitor may send per minute (one IP may send 5 times as many).'),
  PARLEY_WIDGET_CONNECTIONS_PER_MINUTE: z.coerce
    .number({ error: 'expected an integer from 1 to 100000' })
    .int({ error: 'expected an integer from 1 to 100000' })
    .min(1, { error: 'expected an integer from 1 to 100000' })
    .max(100000, { error: 'expected an integer from 1 to 100000' })
    .default(60)
    .describe('Widget connections (page loads, reconnects) one IP may open per minute.'),
  PARLEY_LOGIN_ATTEMPTS_PER_MINUTE: z.coerce
    .number({ error: 'expected an integer from 1 to 100000' })
    .int({ error: 'expected an integer from 1 to 100000' })
    .min(1, { error: 'expected an integer from 1 to 100000' })
    .max(100000, { error: 'expected an integer from 1 to 100000' })
    .default(10)
    .describe(
      'Console sign-in attempts one IP may make per minute; an account also locks for 15 minutes after 5 wrong passwords.',
    ),
  PARLEY_SERVING_RUNTIME: z
    .enum(SERVING_RUNTIMES)
    .default('auto')
    .describe(
      'What generates live chat replies: auto (ONNX Runtime on CPU for llama and qwen2, each version exported to ONNX once into its onnx/ folder; tfjs on a GPU backend, for gpt2, or when the export fails), onnx or tfjs.',
    ),
  PARLEY_SERVING_WORKERS: z.coerce
    .number({ error: 'expected an integer from 1 to 64' })
    .int({ error: 'expected an integer from 1 to 64' })
    .min(1, { error: 'expected an integer from 1 to 64' })
    .max(64, { error: 'expected an integer from 1 to 64' })
    .default(2)
    .describe(
      'Worker threads that generate live chat replies; each holds its own copy of the live model (two during a hot swap).',
    ),
  PARLEY_MODEL_POLL_MS: z.coerce
    .number({ error: 'expected milliseconds as an integer >= 0' })
    .int({ error: 'expected milliseconds as an integer >= 0' })
    .min(0, { error: 'expected milliseconds as an integer >= 0' })
    .default(3000)
    .describe(
      'How often each server reads the active model version and hot-swaps when it changed. 0: only at start.',
    ),
  PARLEY_GATE_LOSS_TOLERANCE: z.coerce
    .number({ error: 'expected a number >= 0' })
    .min(0, { error: 'expected a number >= 0' })
    .default(0.02)
    .describe(
      'Promotion gate: a candidate whose validation loss is worse than the active version by more than this share is blocked.',
    ),
  PARLEY_GATE_R1_TOLERANCE: z.coerce
    .number({ error: 'expected a number >= 0' })
    .min(0, { error: 'expected a number >= 0' })
    .default(0.02)
    .describe(
      'Promotion gate: a candidate whose ranking R@1 is below the active version by more than this is blocked.',
    ),
  PARLEY_EMBEDDED_DB_PORT: port('a port')
    .default(0)
    .describe('Loopback port of the embedded database. 0 picks a free port.'),
  PARLEY_SNAPSHOT_INTERVAL_MS: z.coerce
    .number({ error: 'expected milliseconds as an integer >= 100' })
    .int({ error: 'expected milliseconds as an integer >= 100' })
    .min(100, { error: 'expected milliseconds as an integer >= 100' })
    .default(10_000)
    .describe('How often the embedded database writes its snapshot when something changed.'),
  PARLEY_PRIVACY_BUDGET_EPSILON: z.coerce
    .number({ error: 'expected a positive number' })
    .positive({ error: 'expected a positive number' })
    .optional()
    .describe(
      'Cap on the cumulative epsilon of DP training on overlapping data; a run that would exceed it refuses to start. Unset: no cap.',
    ),
  PARLEY_ARTIFACT_STORE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Where training workers read base models and datasets and write checkpoints and trained models: a directory every web server and worker mounts. Default: PARLEY_DATA_DIR.',
    ),
  PARLEY_LOCAL_WORKER: booleanFlag
    .default(true)
    .describe(
      'Whether `parley serve` also runs queued training jobs itself; false leaves them to `parley worker` processes.',
    ),
  PARLEY_WORKER_LEASE_MS: z.coerce
    .number({ error: 'expected milliseconds as an integer >= 200' })
    .int({ error: 'expected milliseconds as an integer >= 200' })
    .min(200, { error: 'expected milliseconds as an integer >= 200' })
    .default(60_000)
    .describe(
      "How long a worker's lease on a job lasts without a heartbeat (it renews it every third of this); after that another worker takes the job over.",
    ),
  PARLEY_WORKER_MAX_ATTEMPTS: z.coerce
    .number({ error: 'expected an integer from 1 to 100' })
    .int({ error: 'expected an integer from 1 to 100' })
    .min(1, { error: 'expected an integer from 1 to 100' })
    .max(100, { error: 'expected an integer from 1 to 100' })
    .default(3)
    .describe('Leases a queued job may take (each abandoned one counts) before it fails with the reason.'),
  PARLEY_JOB_POLL_MS: z.coerce
    .number({ error: 'expected milliseconds as an integer >= 50' })
    .int({ error: 'expected milliseconds as an integer >= 50' })
    .min(50, { error: 'expected milliseconds as an integer >= 50' })
    .default(1000)
    .describe(
      "How often an idle worker looks for a queued job, and how often the console's server reads the progress of jobs other processes run.",
    ),
  HF_ENDPOINT: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
    .default('https://huggingface.co')
    .describe('Hugging Face hub that `parley model pull` downloads from (a mirror, or a local stand-in).'),
  HF_TOKEN: z
    .string()
    .min(1)
    .optional()
    .describe('Hugging Face access token for gated or private models, sent as a Bearer token. A secret.'),
} as const;

const envSchema = z.object(envShape);
type RawEnv = z.infer<typeof envSchema>;

export interface Env extends Omit<RawEnv, 'PARLEY_DEMO' | 'PARLEY_BASE_MODEL' | 'PARLEY_ARTIFACT_STORE'> {
  /** Absolute path of the base model directory. */
  PARLEY_BASE_MODEL: string;
  /** Absolute path of PARLEY_DATA_DIR. */
  PARLEY_DATA_DIR: string;
  /** Resolved: explicit value, else on for the embedded database outside production. */
  PARLEY_DEMO: boolean;
  /** The artifact store: an absolute directory (PARLEY_ARTIFACT_STORE, else PARLEY_DATA_DIR), or a store URL. */
  PARLEY_ARTIFACT_STORE: string;
}

export interface EnvProblem {
  variable: string;
  message: string;
}

export class EnvError extends Error {
  constructor(readonly problems: EnvProblem[]) {
    super(
      `Invalid environment (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'EnvError';
  }
}

/** Empty strings count as unset, the way `FOO=` in an env file is usually meant. */
function withoutEmpty(source: Record<string, string | undefined>): Record<string, string> {
  const known = Object.keys(envShape);
  const picked: Record<string, string> = {};
  for (const key of known) {
    const value = source[key];
    if (value !== undefined && value.trim() !== '') picked[key] = value.trim();
  }
  return picked;
}

/** Parses and validates the environment; throws EnvError naming every bad variable. */
export function loadEnv(source: Record<string, string | undefined> = process.env, cwd = process.cwd()): Env {
  const parsed = envSchema.safeParse(withoutEmpty(source));
  if (!parsed.success) {
    throw new EnvError(
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        message: issue.message,
      })),
    );
  }
  const raw = parsed.data;
  const dataDir = path.resolve(cwd, raw.PARLEY_DATA_DIR);
  return {
    ...raw,
    PARLEY_DATA_DIR: dataDir,
    PARLEY_BASE_MODEL: raw.PARLEY_BASE_MODEL
      ? path.resolve(cwd, raw.PARLEY_BASE_MODEL)
      : path.join(dataDir, 'models', 'starter'),
    PARLEY_DEMO: raw.PARLEY_DEMO ?? (raw.MONGODB_URI === undefined && raw.NODE_ENV !== 'production'),
    PARLEY_ARTIFACT_STORE: !raw.PARLEY_ARTIFACT_STORE
      ? dataDir
      : STORE_URL.test(raw.PARLEY_ARTIFACT_STORE)
        ? raw.PARLEY_ARTIFACT_STORE
        : path.resolve(cwd, raw.PARLEY_ARTIFACT_STORE),
  };
}

/** Variable, default and description, for documentation and `parley --help`. */
export function describeEnv(): { variable: string; default: string | undefined; description: string }[] {
  return Object.entries(envShape).map(([variable, schema]) => {
    const parsed = (schema as z.ZodType).safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? String(parsed.data) : undefined;
    return { variable, default: fallback, description: schema.description ?? '' };
  });
}
