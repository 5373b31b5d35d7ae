import { describe, expect, it } from 'vitest';
import {
  anchor,
  cell,
  foreignReports,
  formatNumber,
  isBenchReport,
  type Machine,
  renderBenchmarks,
  renderRows,
} from '../../../bench/markdown.js';
import { type BenchReport, rateRow, reportFlag, reproduceCommand } from '../../../bench/report.js';

const MACHINE: Machine = {
  cpu: 'Test CPU @ 2.0GHz',
  cores: 2,
  memoryBytes: 8 * 2 ** 30,
  node: 'v20.19.0',
  os: 'Linux 6.1 (x64)',
  date: '2026-11-28T07:00:00.000Z',
  commit: 'abc1234',
};

const ingest: BenchReport = {
  bench: 'bench/ingest.ts',
  title: 'Ingest + anonymize',
  command: 'npx tsx bench/ingest.ts --limit 300',
  setup: 'demo logs, embedded MongoDB',
  rows: [
    rateRow(
      'ingest throughput',
      { label: 'ingest', value: 18_400.4, unit: 'docs/s' },
      { label: 'raw read', value: 47_000, unit: 'docs/s' },
      0.5,
    ),
  ],
  details: ['a finding'],
};

describe('formatNumber', () => {
  it.each([
    [18_400.4, '18,400'],
    [47_000, '47,000'],
    [123.456, '123'],
    [12.345, '12.3'],
    [1.2345, '1.23'],
    [0.39149, '0.391'],
    [0, '0'],
    [3, '3'],
    [Number.NaN, '–'],
    [Number.POSITIVE_INFINITY, '∞'],
  ])('%d reads %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});

describe('renderRows', () => {
  it('puts figure, same-run reference, ratio and whether the goal was met in one row', () => {
    const [header, , row] = renderRows(ingest.rows);
    expect(header).toBe('| measured | figure | reference (same run) | ratio | goal | note |');
    expect(row).toBe(
      '| ingest throughput | ingest: 18,400 docs/s | raw read: 47,000 docs/s | 0.39 (ingest / raw read) | **>= 0.5x: not met** |  |',
    );
  });

  it('renders a row without reference, ratio or goal with dashes, and a met goal plainly', () => {
    const [, , bare, zero] = renderRows([
      { name: 'speed', figure: { label: 'turns', value: 60_000, unit: 'turns/s' } },
      {
        name: 'lost',
        figure: { label: 'lost', value: 0, unit: '' },
        ratio: { value: 2.5, meaning: 'x idle' },
        goal: { text: '0', met: true },
      },
    ]);
    expect(bare).toBe('| speed | turns: 60,000 turns/s | – | – | – |  |');
    expect(zero).toBe('| lost | lost: 0 | – | 2.50x idle | 0: met |  |');
  });

  it('keeps a pipe or a line break in a cell from breaking the table', () => {
    expect(cell('a | b\nc')).toBe('a \\| b c');
    const [, , row] = renderRows([
      { name: 'x|y', figure: { label: 'l', value: 1, unit: 'ms' }, note: 'p\nq' },
    ]);
    expect(row!.split(/(?<!\\)\|/)).toHaveLength(8);
  });

  it('says so when a report has no rows', () => {
    expect(renderRows([])).toEqual(['(no figures)']);
  });
});

describe('renderBenchmarks', () => {
  const doc = renderBenchmarks({
    machine: MACHINE,
    command: 'npm run bench',
    quick: false,
    seconds: 600,
    outcomes: [
      { kind: 'ok', bench: 'bench/ingest.ts', command: ingest.command, seconds: 42, report: ingest },
      {
        kind: 'failed',
        bench: 'bench/widget-load.ts',
        command: 'npx tsx bench/widget-load.ts',
        seconds: 12,
        error: 'exited with 1; its last output:\nboom',
      },
      { kind: 'skipped', bench: 'bench/decode.ts', note: 'bench/decode.ts is not in this checkout' },
    ],
    foreign: [
      {
        source: 'docs/benchmarks-gpu.json',
        machine: 'NVIDIA H100',
        report: { ...ingest, bench: 'bench/gpu/x.ts', title: 'GPU decode' },
      },
    ],
  });

  it('starts with the machine: CPU, cores, memory, Node, date and commit', () => {
    for (const line of [
      '| CPU | Test CPU @ 2.0GHz |',
      '| cores | 2 |',
      '| memory | 8 GiB |',
      '| Node | v20.19.0 |',
      '| date | 2026-11-28T07:00:00.000Z |',
      '| commit | abc1234 |',
      '| duration | 10.0 min |',
    ])
      expect(doc).toContain(line);
    expect(doc).not.toContain('quick smoke run');
  });

  it('gives each report its title, command, setup, table and details', () => {
    expect(doc).toContain('## Ingest + anonymize\n\n`npx tsx bench/ingest.ts --limit 300` (bench/ingest.ts)');
    expect(doc).toContain('demo logs, embedded MongoDB');
    expect(doc).toContain('| ingest throughput | ingest: 18,400 docs/s |');
    expect(doc).toContain('\na finding\n');
    expect(doc).toContain(
      '| [Ingest + anonymize](#ingest--anonymize) | ok, **1 of 1 goal(s) not met** | 42 s |',
    );
  });

  it('lists a failed benchmark with its error, and a missing one as not run', () => {
    expect(doc).toContain(
      '| [bench/widget-load.ts](#benchwidget-loadts) | **failed**: exited with 1 | 12 s |',
    );
    expect(doc).toContain('**Failed:**\n\n```\nexited with 1; its last output:\nboom\n```');
    expect(doc).toContain('## Not run\n\n- bench/decode.ts: bench/decode.ts is not in this checkout');
  });

  it('includes a report measured on another machine, marked with that machine', () => {
    expect(doc).toContain('## GPU decode (NVIDIA H100)');
    expect(doc).toContain('Measured on NVIDIA H100, not in this run (from docs/benchmarks-gpu.json).');
  });

  it('marks a quick run', () => {
    const quick = renderBenchmarks({
      machine: MACHINE,
      command: 'x',
      quick: true,
      seconds: 1,
      outcomes: [],
      foreign: [],
    });
    expect(quick).toContain('quick smoke run');
  });
});

describe('reports from files', () => {
  it('accepts a BenchReport and refuses what is not one', () => {
    expect(isBenchReport(ingest)).toBe(true);
    expect(isBenchReport({ ...ingest, rows: [{ name: 'x' }] })).toBe(false);
    expect(isBenchReport(null)).toBe(false);
    expect(isBenchReport({ title: 't' })).toBe(false);
  });

  it.each([
    ['a bare report', ingest, 'fallback'],
    ['a report with its machine', { ...ingest, machine: 'H100 80GB' }, 'H100 80GB'],
    ['an array of reports', [ingest, ingest], 'fallback'],
    [
      '{ machine, reports }',
      { machine: { gpu: 'H200', cuda: '12.4', nested: {} }, reports: [ingest] },
      'gpu H200, cuda 12.4',
    ],
    ['{ machine, report }', { machine: 'A100', report: ingest }, 'A100'],
  ])('reads the GPU file as %s', (_, json, machine) => {
    const found = foreignReports(json, 'docs/benchmarks-gpu.json', 'fallback');
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]!.machine).toBe(machine);
  });

  it('finds nothing in a file that holds no report', () => {
    expect(foreignReports({ hello: 1 }, 's', 'f')).toEqual([]);
    expect(foreignReports('text', 's', 'f')).toEqual([]);
  });
});

describe('report flags', () => {
  it('reads --report in both forms and leaves it out of the command that reproduces the run', () => {
    expect(reportFlag(['--limit', '3', '--report', '/tmp/r.json'])).toBe('/tmp/r.json');
    expect(reportFlag(['--report=/tmp/r.json'])).toBe('/tmp/r.json');
    expect(reportFlag(['--limit', '3'])).toBeUndefined();
    expect(reproduceCommand('bench/ingest.ts', ['--limit', '3', '--report', '/tmp/r.json'])).toBe(
      'npx tsx bench/ingest.ts --limit 3',
    );
    expect(reproduceCommand('bench/x.ts', ['--report=/tmp/r.json', '--quick'])).toBe(
      'npx tsx bench/x.ts --quick',
    );
  });

  it('gives the anchor GitHub gives a heading', () => {
    expect(anchor('Ingest + anonymize')).toBe('ingest--anonymize');
    expect(anchor('GPU decode (NVIDIA H100)')).toBe('gpu-decode-nvidia-h100');
  });
});
