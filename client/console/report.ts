/** The evaluation report (server/evaluate/compare.ts) as the version page shows it: labelled rows with deltas. */
import type { ComparisonReport, MetricName, MetricRow } from './admin-api.js';
import { type DeltaTone, describeDelta, formatNumber, formatPercent } from './format.js';

const METRIC_LABELS: Record<MetricName, { label: string; percent?: boolean; help: string }> = {
  validationLoss: { label: 'Validation loss', help: 'Cross-entropy on the validation split' },
  perplexity: { label: 'Perplexity', help: 'e to the validation loss' },
  r1: { label: 'Ranking R@1', percent: true, help: 'The right reply ranked first among candidates' },
  mrr: { label: 'Ranking MRR', help: 'Mean reciprocal rank of the right reply' },
  rougeL: { label: 'ROUGE-L', help: 'Overlap of generated replies with the agents’ replies' },
  bleu: { label: 'BLEU', help: 'n-gram precision against the agents’ replies' },
  emptyRate: { label: 'Empty replies', percent: true, help: 'Generated replies with no text' },
  repeatedRate: { label: 'Repetitive replies', percent: true, help: 'Replies that loop on themselves' },
  overLongRate: { label: 'Over-long replies', percent: true, help: 'Replies cut off at the token limit' },
  meanReplyWords: { label: 'Words per reply', help: 'Mean length of generated replies' },
  meanReplyTokens: { label: 'Tokens per reply', help: 'Mean length in tokens' },
  humanUpRate: { label: 'Rated 👍', percent: true, help: 'Share of live replies agents approved' },
  humanDownRate: { label: 'Rated 👎', percent: true, help: 'Share of live replies agents rejected' },
  humanCorrectedRate: { label: 'Corrected', percent: true, help: 'Share of live replies agents corrected' },
};

export interface ReportRow {
  name: MetricName;
  label: string;
  help: string;
  value: string;
  against: string;
  delta: string;
  tone: DeltaTone;
  /** For screen readers and the colour-blind: "better", "worse", "same" or "". */
  verdict: string;
}

/** The report's metrics in a fixed order; rows where neither model has a figure are left out. */
export function reportRows(report: Pick<ComparisonReport, 'metrics'>): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const name of Object.keys(METRIC_LABELS) as MetricName[]) {
    const row: MetricRow | undefined = report.metrics[name];
    if (!row || (row.new === null && row.against === null)) continue;
    const meta = METRIC_LABELS[name];
    const show = (value: number | null) => (meta.percent ? formatPercent(value) : formatNumber(value));
    const delta = describeDelta(row, meta.percent);
    rows.push({
      name,
      label: meta.label,
      help: meta.help,
      value: show(row.new),
      against: show(row.against),
      delta: delta.text,
      tone: delta.tone,
      verdict:
        delta.tone === 'better'
          ? 'better'
          : delta.tone === 'worse'
            ? 'worse'
            : delta.tone === 'same'
              ? 'same'
              : '',
    });
  }
  return rows;
}

/** What the report compared against, in words: "v1", "the base model" or a directory. */
export function againstLabel(against: ComparisonReport['against']): string {
  if (against.kind === 'version' && against.version) return against.version;
  if (against.kind === 'base') return 'the base model';
  return against.artifactPath;
}

/** The hyper-parameters worth a column, compactly: "3 epochs · lr 2e-4 · batch 8 · LoRA r8". */
export function hyperparameterSummary(h: Record<string, unknown>): string {
  const parts: string[] = [];
  const num = (key: string) => (typeof h[key] === 'number' ? (h[key] as number) : null);
  const epochs = num('epochs');
  if (epochs !== null) parts.push(`${epochs} ${epochs === 1 ? 'epoch' : 'epochs'}`);
  const lr = num('learningRate');
  if (lr !== null) parts.push(`lr ${formatNumber(lr)}`);
  const batch = num('batchSize');
  if (batch !== null) parts.push(`batch ${batch}`);
  const mode = typeof h.mode === 'string' ? h.mode : null;
  const rank = num('loraRank') ?? num('rank');
  if (mode === 'full') parts.push('full');
  else if (rank !== null) parts.push(`LoRA r${rank}`);
  else if (mode) parts.push(mode);
  if (parts.length === 0 && typeof h.recipe === 'string') parts.push(h.recipe);
  return parts.join(' · ') || '—';
}
