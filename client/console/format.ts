/** How the admin pages write numbers, durations, dates and metric deltas. */
import type { MetricRow } from './admin-api.js';

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });

export const formatCount = (value: number | null | undefined): string =>
  value === null || value === undefined || !Number.isFinite(value) ? '—' : integer.format(value);

/** Four significant digits, small and large numbers in exponent form ("2e-4"). */
export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3 || magnitude >= 1e6) {
    const [mantissa, exponent] = value.toExponential(digits - 1).split('e');
    return `${Number(mantissa)}e${Number(exponent)}`;
  }
  return String(Number(value.toPrecision(digits)));
}

export function formatPercent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `${(value * 100).toFixed(digits)}%`;
}

/** "42 s", "3 min 5 s", "1 h 20 min"; "—" when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

export function formatDate(value: string | Date | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '—';
  return date.toLocaleString('en', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export type DeltaTone = 'better' | 'worse' | 'same' | 'neutral';

/** A metric's delta as text ("+0.012", "−3.1%") and whether it is an improvement. */
export function describeDelta(row: MetricRow, asPercent = false): { text: string; tone: DeltaTone } {
  if (row.delta === null || !Number.isFinite(row.delta)) return { text: '—', tone: 'neutral' };
  if (row.delta === 0) return { text: '±0', tone: 'same' };
  const sign = row.delta > 0 ? '+' : '−';
  const size = Math.abs(row.delta);
  const text = `${sign}${asPercent ? `${(size * 100).toFixed(1)} pts` : formatNumber(size)}`;
  if (!row.better) return { text, tone: 'neutral' };
  const improved = row.better === 'lower' ? row.delta < 0 : row.delta > 0;
  return { text, tone: improved ? 'better' : 'worse' };
}
