/**
 * `npm run bench`: every benchmark in turn, each as a child process writing its report with
 * `--report FILE` into a temporary directory, then docs/benchmarks.md from those reports (see
 * bench/markdown.ts). A benchmark that fails or runs past its time limit is listed with its error
 * and the others still run; one that is not in this checkout is listed as skipped. The GPU
 * benchmark's report (docs/benchmarks-gpu.json, written on a GPU machine) is included when present,
 * marked with the machine it ran on. Exits 1 when any benchmark failed.
 *
 *   npm run bench [-- --quick] [--only ingest,widget-load] [--out docs/benchmarks.md] [--keep]
 *
 * --quick: shortened settings, a smoke run of a few minutes (its figures are not comparable);
 * --only: just these benchmarks (by name); --keep: keep the reports and logs directory.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BenchOutcome,
  type ForeignReport,
  foreignReports,
  isBenchReport,
  type Machine,
  renderBenchmarks,
} from './markdown.js';

const ROOT = path.resolve(import.meta.dirname, '..');

interface BenchPlan {
  name: string;
  script: string;
  /** Flags of the full run: chosen so that the whole run stays within about 20 minutes on 2 cores. */
  args: string[];
  quickArgs: string[];
  /** Time limit of the full run, in seconds (the quick run's is a third of it, at least 3 minutes). */
  limitSeconds: number;
}

/** In order: the cheap ones first, so that a smoke run fails early. */
const BENCHES: BenchPlan[] = [
  { name: 'pii-eval', script: 'bench/pii-eval.ts', args: [], quickArgs: [], limitSeconds: 300 },
  {
    name: 'ingest',
    script: 'bench/ingest.ts',
    args: [],
    quickArgs: ['--limit', '300'],
    limitSeconds: 600,
  },
  {
    name: 'model',
    script: 'bench/model.ts',
    args: ['--prompt', '32', '--decode', '16'],
    quickArgs: ['--only', 'small', '--prompt', '16', '--decode', '8'],
    limitSeconds: 600,
  },
  {
    name: 'model-backends',
    script: 'bench/model-backends.ts',
    args: [],
    quickArgs: ['--backends', 'wasm', '--steps', '1', '--seq', '32'],
    limitSeconds: 600,
  },
  {
    name: 'train-step',
    script: 'bench/train-step.ts',
    args: [
      '--runs',
      'starter:full,starter:lora,smollm2-8l:full,smollm2:lora',
      '--options',
      'wasm,native-1t',
      '--steps',
      '2',
    ],
    quickArgs: ['--runs', 'starter:full', '--options', 'wasm,native-1t', '--steps', '1'],
    limitSeconds: 900,
  },
  {
    name: 'decode',
    script: 'bench/decode.ts',
    args: ['--decode', '16', '--repeat', '2'],
    quickArgs: ['--only', 'starter', '--decode', '8', '--repeat', '1'],
    limitSeconds: 900,
  },
  {
    name: 'serving',
    script: 'bench/serving.ts',
    args: ['--concurrency', '1,8', '--replies', '4'],
    quickArgs: ['--shape', 'tiny', '--concurrency', '1,2', '--replies', '2'],
    limitSeconds: 600,
  },
  {
    name: 'widget-load',
    script: 'bench/widget-load.ts',
    args: ['--visitors', '1,5,10,20,40', '--messages', '3', '--step-seconds', '20'],
    quickArgs: ['--visitors', '1,3', '--messages', '2', '--step-seconds', '10'],
    limitSeconds: 600,
  },
  {
    name: 'promotion-load',
    script: 'bench/promotion-load.ts',
    args: ['--visitors', '100', '--duration', '120', '--every', '10'],
    quickArgs: ['--visitors', '10', '--duration', '20', '--every', '5', '--think-ms', '1000'],
    limitSeconds: 720,
  },
];

const GPU_REPORT = 'docs/benchmarks-gpu.json';
const BIOME = path.join(ROOT, 'node_modules/@biomejs/biome/bin/biome');

function machine(): Machine {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return '';
    }
  };
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    date: new Date().toISOString(),
    commit: `${commit}${dirty ? ' (with uncommitted changes)' : ''}`,
    loadAverage: os.loadavg(),
  };
}

/**
 * The last `n` lines of a log file, for the error of a failed benchmark, less the lines repeated
 * throughout it (a library's start-up warning printed by every worker, say).
 */
async function tail(file: string, n: number): Promise<string> {
  const lines = (await readFile(file, 'utf8').catch(() => '')).trimEnd().split('\n');
  const seen = new Map<string, number>();
  for (const line of lines) seen.set(line, (seen.get(line) ?? 0) + 1);
  return lines
    .filter((line) => line.trim() === '' || seen.get(line)! < 3)
    .slice(-n)
    .join('\n');
}

/**
 * Runs one benchmark as `node --import tsx SCRIPT ARGS --report FILE`, its output shown and logged;
 * kills its process group after `limitSeconds`.
 */
async function runOne(
  plan: BenchPlan,
  args: string[],
  limitSeconds: number,
  dir: string,
): Promise<BenchOutcome> {
  const command = ['npx tsx', plan.script, ...args].join(' ');
  if (!existsSync(path.join(ROOT, plan.script)))
    return { kind: 'skipped', bench: plan.script, note: `${plan.script} is not in this checkout` };
  const reportFile = path.join(dir, `${plan.name}.json`);
  const logFile = path.join(dir, `${plan.name}.log`);
  const log = await open(logFile, 'w');
  const started = performance.now();
  console.log(`\n=== ${plan.name}: ${command} (limit ${limitSeconds} s)`);
  const child = spawn(process.execPath, ['--import', 'tsx', plan.script, ...args, '--report', reportFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const copy = (chunk: Buffer) => {
    process.stdout.write(chunk);
    void log.write(chunk);
  };
  // Ctrl-C or a kill of `npm run bench` stops the benchmark running now too (it has its own group).
  const stop = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  child.stdout.on('data', copy);
  child.stderr.on('data', copy);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL'); // its own process group: the bench and its workers
    } catch {
      child.kill('SIGKILL');
    }
  }, limitSeconds * 1000);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.on('error', (error) => resolve({ code: null, signal: null, error }));
      child.on('close', (code, signal) => resolve({ code, signal }));
    },
  );
  clearTimeout(timer);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await log.close();
  const seconds = (performance.now() - started) / 1000;
  let report: unknown = null;
  try {
    report = JSON.parse(await readFile(reportFile, 'utf8'));
  } catch {
    report = null;
  }
  const valid = isBenchReport(report) ? report : undefined;
  const why = timedOut
    ? `ran past its ${limitSeconds} s limit and was stopped`
    : exit.error
      ? `could not start: ${exit.error.message}`
      : exit.code !== 0
        ? `exited with ${exit.code ?? exit.signal}`
        : !valid
          ? report === null
            ? `wrote no report to --report ${path.basename(reportFile)}`
            : 'wrote a report that is not a BenchReport (bench/report.ts)'
          : null;
  if (why === null) return { kind: 'ok', bench: plan.script, command, seconds, report: valid! };
  const lines = await tail(logFile, 15);
  return {
    kind: 'failed',
    bench: plan.script,
    command,
    seconds,
    error: `${why}${lines ? `; its last output:\n${lines}` : ''}`,
    ...(valid ? { report: valid } : {}),
  };
}

/** The GPU benchmark's report, when a GPU machine wrote one into docs/. */
async function gpuReports(): Promise<ForeignReport[]> {
  const file = path.join(ROOT, GPU_REPORT);
  if (!existsSync(file)) return [];
  const written = (await stat(file)).mtime.toISOString().slice(0, 10);
  try {
    const reports = foreignReports(
      JSON.parse(await readFile(file, 'utf8')),
      GPU_REPORT,
      `a GPU machine (not recorded in the file; written ${written})`,
    );
    if (reports.length === 0) console.error(`${GPU_REPORT}: no BenchReport in it; left out`);
    return reports;
  } catch (error) {
    console.error(`${GPU_REPORT}: ${(error as Error).message}; left out`);
    return [];
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string', default: 'docs/benchmarks.md' },
      keep: { type: 'boolean', default: false },
    },
  });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((name) => !BENCHES.some((b) => b.name === name)) ?? [];
  if (unknown.length > 0)
    throw new Error(`--only: unknown ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  const plans = BENCHES.filter((b) => !only || only.includes(b.name));

  const host = machine();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-all-'));
  const started = performance.now();
  const outcomes: BenchOutcome[] = [];
  try {
    for (const plan of plans) {
      const outcome = await runOne(
        plan,
        values.quick ? plan.quickArgs : plan.args,
        values.quick ? Math.max(180, Math.round(plan.limitSeconds / 3)) : plan.limitSeconds,
        dir,
      );
      outcomes.push(outcome);
      console.log(
        outcome.kind === 'skipped'
          ? `=== ${plan.name}: skipped (${outcome.note})`
          : `=== ${plan.name}: ${outcome.kind === 'ok' ? 'ok' : `FAILED (${outcome.error.split(';')[0]})`} in ${outcome.seconds.toFixed(0)} s`,
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const markdown = renderBenchmarks({
      machine: host,
      command: `npm run bench${values.quick ? ' -- --quick' : ''}${only ? ` -- --only ${only.join(',')}` : ''}`,
      quick: values.quick!,
      seconds,
      outcomes,
      foreign: await gpuReports(),
    });
    const out = path.resolve(ROOT, values.out!);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, markdown);
    // The repository's formatter aligns the tables, so the committed file passes `biome check`.
    execFileSync(process.execPath, [BIOME, 'format', '--write', out], { stdio: 'ignore' });
    const failed = outcomes.filter((o) => o.kind === 'failed');
    console.log(
      `\nwrote ${path.relative(ROOT, out)} in ${(seconds / 60).toFixed(1)} min: ` +
        `${outcomes.filter((o) => o.kind === 'ok').length} ok, ${failed.length} failed` +
        `${failed.length > 0 ? ` (${failed.map((o) => o.bench).join(', ')})` : ''}, ` +
        `${outcomes.filter((o) => o.kind === 'skipped').length} skipped` +
        `${values.keep ? `; reports and logs in ${dir}` : ''}`,
    );
    if (failed.length > 0) process.exitCode = 1;
  } finally {
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }
}

await main();
