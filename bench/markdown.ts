/**
 * docs/benchmarks.md from the reports the benchmarks wrote (bench/report.ts): the machine first,
 * then per benchmark its title, command, setup and a table of figure, same-run reference, ratio
 * and goal. Pure functions, so that the rendering is tested without running a benchmark.
 */
import type { BenchReport, BenchRow, Measure } from './report.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryBytes: number;
  node: string;
  os: string;
  /** ISO 8601. */
  date: string;
  commit: string;
  loadAverage?: number[];
}

/** One benchmark of a run: its report, and whether it failed (with or without a report). */
export type BenchOutcome =
  | { kind: 'ok'; bench: string; command: string; seconds: number; report: BenchReport }
  | {
      kind: 'failed';
      bench: string;
      command: string;
      seconds: number;
      error: string;
      /** What it wrote before failing (a bench exits 1 when a goal such as "0 lost" failed). */
      report?: BenchReport;
    }
  | { kind: 'skipped'; bench: string; note: string };

/** A report measured elsewhere (docs/benchmarks-gpu.json), with the machine it ran on. */
export interface ForeignReport {
  source: string;
  machine: string;
  report: BenchReport;
}

export interface RunSummary {
  machine: Machine;
  /** The command that produced the document, e.g. "npm run bench". */
  command: string;
  quick: boolean;
  seconds: number;
  outcomes: BenchOutcome[];
  foreign: ForeignReport[];
}

/** A number for reading: grouped thousands, about 3 significant digits, a dash for NaN. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? '–' : value > 0 ? '∞' : '-∞';
  const abs = Math.abs(value);
  if (Number.isInteger(value) || abs >= 100)
    return Math.round(value).toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(3);
}

/** Text safe inside a Markdown table cell: no pipes breaking the row, no line breaks. */
export function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').trim();
}

export function formatMeasure(m: Measure): string {
  return `${m.label}: ${formatNumber(m.value)}${m.unit ? ` ${m.unit}` : ''}`;
}

function formatRatio(ratio: BenchRow['ratio']): string {
  if (!ratio) return '–';
  const abs = Math.abs(ratio.value);
  const value =
    Number.isFinite(ratio.value) && abs >= 0.01 && abs < 100
      ? ratio.value.toFixed(2)
      : formatNumber(ratio.value);
  return ratio.meaning.startsWith('x ') ? `${value}${ratio.meaning}` : `${value} (${ratio.meaning})`;
}

function formatGoal(goal: BenchRow['goal']): string {
  if (!goal) return '–';
  return goal.met ? `${goal.text}: met` : `**${goal.text}: not met**`;
}

/** The table of one report's rows. */
export function renderRows(rows: BenchRow[]): string[] {
  if (rows.length === 0) return ['(no figures)'];
  return [
    '| measured | figure | reference (same run) | ratio | goal | note |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${[
          row.name,
          formatMeasure(row.figure),
          row.reference ? formatMeasure(row.reference) : '–',
          formatRatio(row.ratio),
          formatGoal(row.goal),
          row.note ?? '',
        ]
          .map(cell)
          .join(' | ')} |`,
    ),
  ];
}

/** One report: its title as a heading, command, setup, table and details. */
export function renderReport(report: BenchReport, heading: string = report.title): string[] {
  return [
    `## ${heading}`,
    '',
    `\`${report.command}\` (${report.bench})`,
    '',
    report.setup,
    '',
    ...renderRows(report.rows),
    ...(report.details && report.details.length > 0 ? ['', ...report.details] : []),
    '',
  ];
}

const formatSeconds = (seconds: number) =>
  seconds >= 90 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(0)} s`;

/** The whole document. */
export function renderBenchmarks(run: RunSummary): string {
  const { machine } = run;
  const lines: string[] = [
    '# Benchmarks',
    '',
    `Written by \`${run.command}\`${run.quick ? ' (**quick smoke run**: shortened benchmarks, figures not comparable with a full run)' : ''}. ` +
      'Each figure stands next to its reference, measured in the same run on the same machine; these machines are ' +
      'noisy and shared, so compare ratios between runs rather than raw figures.',
    '',
    '| machine | |',
    '| --- | --- |',
    `| CPU | ${cell(machine.cpu)} |`,
    `| cores | ${machine.cores} |`,
    `| memory | ${formatNumber(machine.memoryBytes / 2 ** 30)} GiB |`,
    `| OS | ${cell(machine.os)} |`,
    `| Node | ${machine.node} |`,
    `| date | ${machine.date} |`,
    `| commit | ${cell(machine.commit)} |`,
    ...(machine.loadAverage
      ? [`| load average at start | ${machine.loadAverage.map((n) => n.toFixed(1)).join(' ')} |`]
      : []),
    `| duration | ${formatSeconds(run.seconds)} |`,
    '',
    '| benchmark | result | time |',
    '| --- | --- | --- |',
    ...run.outcomes.map((o) => {
      if (o.kind === 'skipped') return `| ${o.bench} | skipped: ${cell(o.note)} | – |`;
      const title = o.report?.title ?? o.bench;
      const goals = (o.report?.rows ?? []).filter((r) => r.goal);
      const missed = goals.filter((r) => !r.goal!.met).length;
      const result =
        o.kind === 'failed'
          ? `**failed**: ${cell((o.error.split('\n')[0] ?? '').replace(/; its last output:$/, ''))}`
          : goals.length === 0
            ? 'ok'
            : missed === 0
              ? `ok, ${goals.length} goal(s) met`
              : `ok, **${missed} of ${goals.length} goal(s) not met**`;
      return `| [${cell(title)}](#${anchor(title)}) | ${result} | ${formatSeconds(o.seconds)} |`;
    }),
    ...run.foreign.map(
      (f) => `| [${cell(f.report.title)}](#${anchor(foreignHeading(f))}) | from ${cell(f.source)} | – |`,
    ),
    '',
  ];
  for (const o of run.outcomes) {
    if (o.kind === 'skipped') continue;
    if (o.report) lines.push(...renderReport(o.report));
    else lines.push(`## ${o.bench}`, '', `\`${o.command}\``, '');
    if (o.kind === 'failed') lines.push('**Failed:**', '', '```', o.error.trimEnd(), '```', '');
  }
  for (const f of run.foreign) {
    lines.push(...renderReport(f.report, foreignHeading(f)));
    lines.push(`Measured on ${f.machine}, not in this run (from ${f.source}).`, '');
  }
  const skipped = run.outcomes.filter((o) => o.kind === 'skipped');
  if (skipped.length > 0) {
    lines.push('## Not run', '');
    for (const o of skipped) lines.push(`- ${o.bench}: ${o.note}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

const foreignHeading = (f: ForeignReport) => `${f.report.title} (${f.machine})`;

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes. */
export function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Whether `value` looks like a BenchReport (a report file from another checkout or a crashed run). */
export function isBenchReport(value: unknown): value is BenchReport {
  const r = value as Partial<BenchReport> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.title === 'string' &&
    typeof r.bench === 'string' &&
    typeof r.command === 'string' &&
    typeof r.setup === 'string' &&
    Array.isArray(r.rows) &&
    r.rows.every(
      (row) =>
        typeof row?.name === 'string' &&
        typeof row.figure?.value === 'number' &&
        typeof row.figure.label === 'string' &&
        typeof row.figure.unit === 'string',
    )
  );
}

/**
 * The reports in a file written elsewhere (docs/benchmarks-gpu.json): one BenchReport, an array
 * of them, or `{ machine, reports | report }`. The machine is the file's `machine` (text, or an
 * object whose fields are listed), else `fallbackMachine`.
 */
export function foreignReports(json: unknown, source: string, fallbackMachine: string): ForeignReport[] {
  const describe = (machine: unknown): string | null => {
    if (typeof machine === 'string' && machine.trim()) return machine.trim();
    if (machine && typeof machine === 'object')
      return Object.entries(machine as Record<string, unknown>)
        .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ');
    return null;
  };
  const wrap = (report: unknown, machine: unknown): ForeignReport[] => {
    if (!isBenchReport(report)) return [];
    const own = describe((report as unknown as { machine?: unknown }).machine);
    return [{ source, machine: own ?? describe(machine) ?? fallbackMachine, report }];
  };
  if (Array.isArray(json)) return json.flatMap((r) => wrap(r, null));
  if (isBenchReport(json)) return wrap(json, null);
  const outer = json as { machine?: unknown; reports?: unknown; report?: unknown } | null;
  if (outer && typeof outer === 'object') {
    const inner = Array.isArray(outer.reports) ? outer.reports : outer.report ? [outer.report] : [];
    return inner.flatMap((r) => wrap(r, outer.machine));
  }
  return [];
}
