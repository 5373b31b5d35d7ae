/**
 * What every benchmark hands to `npm run bench` (bench/all.ts), which writes docs/benchmarks.md.
 *
 * A benchmark run with `--report FILE` writes one BenchReport as JSON to FILE (its usual console
 * output is unchanged). Each row is one figure next to its reference, both measured in the same run
 * on the same machine: these machines are noisy, so the ratio is what carries over between runs.
 */
import { writeFile } from 'node:fs/promises';

export interface Measure {
  /** What was measured, e.g. "ingest + anonymize" or "raw cursor read". */
  label: string;
  value: number;
  /** e.g. "docs/s", "GFLOP/s", "ms", "tokens/s". */
  unit: string;
}

export interface BenchRow {
  /** What this row answers, e.g. "ingest throughput, demo logs". */
  name: string;
  figure: Measure;
  /** The same run's reference; absent where there is none (a count of lost messages, say). */
  reference?: Measure;
  /** figure / reference where both are rates, or as the benchmark defines it; with its meaning. */
  ratio?: { value: number; meaning: string };
  /** The target from the issue, in words, e.g. ">= 0.5x raw"; and whether this run met it. */
  goal?: { text: string; met: boolean };
  note?: string;
}

export interface BenchReport {
  /** The benchmark's file, e.g. "bench/ingest.ts". */
  bench: string;
  title: string;
  /** The command that reproduces it. */
  command: string;
  /** Backend, sizes, settings: what a reader needs to compare runs. */
  setup: string;
  rows: BenchRow[];
  /** Whatever else is worth reading (a table as Markdown lines, a finding). */
  details?: string[];
}

/** Writes `report` to `file` as JSON, when the benchmark was given `--report FILE`. */
export async function writeReport(file: string | undefined, report: BenchReport): Promise<void> {
  if (file) await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
}

/** Convenience for the common case of a rate against a reference rate. */
export function rateRow(name: string, figure: Measure, reference: Measure, goal?: number): BenchRow {
  const ratio = figure.value / reference.value;
  return {
    name,
    figure,
    reference,
    ratio: { value: ratio, meaning: `${figure.label} / ${reference.label}` },
    ...(goal === undefined ? {} : { goal: { text: `>= ${goal}x`, met: ratio >= goal } }),
  };
}

/** The `--report FILE` flag's value in `argv` (either form: `--report FILE` or `--report=FILE`). */
export function reportFlag(argv: readonly string[] = process.argv.slice(2)): string | undefined {
  for (const [i, arg] of argv.entries()) {
    if (arg === '--report') return argv[i + 1];
    if (arg.startsWith('--report=')) return arg.slice('--report='.length);
  }
  return undefined;
}

/** The command that reproduces this run: `npx tsx SCRIPT` and its flags, less `--report FILE`. */
export function reproduceCommand(script: string, argv: readonly string[] = process.argv.slice(2)): string {
  const kept = argv.filter(
    (arg, i) => arg !== '--report' && !arg.startsWith('--report=') && argv[i - 1] !== '--report',
  );
  return ['npx tsx', script, ...kept].join(' ');
}
