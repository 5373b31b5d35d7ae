/**
 * The training loss and validation loss by step, drawn with uPlot on a canvas (its stylesheet is
 * bundled into the console's own; nothing inline, as the CSP wants). The chart keeps its height
 * while data arrives, and a table of the same figures is there for screen readers.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { formatNumber } from '../format.js';
import type { LossSeries } from '../training-state.js';

const HEIGHT = 260;
const LOSS_COLOR = '#2456c9';
const VALIDATION_COLOR = '#c2410c';

export function LossChart({ series, label }: { series: LossSeries; label: string }) {
  const holder = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: HEIGHT,
        scales: { x: { time: false } },
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        axes: [
          {
            label: 'Step',
            stroke: '#5b6475',
            grid: { stroke: '#eceff3' },
            ticks: { stroke: '#d9dde4' },
            // Whole steps only.
            incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
            values: (_u, splits) => splits.map((split) => (Number.isInteger(split) ? String(split) : '')),
          },
          {
            label: 'Loss',
            stroke: '#5b6475',
            grid: { stroke: '#eceff3' },
            ticks: { stroke: '#d9dde4' },
            size: 56,
          },
        ],
        series: [
          { label: 'Step' },
          {
            label: 'Training loss',
            stroke: LOSS_COLOR,
            width: 2,
            value: (_u, value) => formatNumber(value),
          },
          {
            label: 'Validation loss',
            stroke: VALIDATION_COLOR,
            width: 2,
            dash: [6, 4],
            spanGaps: true,
            points: { show: true, size: 6, fill: VALIDATION_COLOR },
            value: (_u, value) => formatNumber(value),
          },
        ],
      },
      series as uPlot.AlignedData,
      element,
    );
    chart.current = plot;
    const resize = new ResizeObserver(() => {
      const width = Math.max(320, element.clientWidth);
      if (Math.abs(width - plot.width) > 1) plot.setSize({ width, height: HEIGHT });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setData(series as uPlot.AlignedData);
  }, [series]);

  const [steps, loss, validation] = series;
  const lastValidation = validation.findLastIndex((value) => value !== null);
  return (
    <figure class="loss-chart" aria-label={label}>
      <div class="loss-chart-canvas" ref={holder} aria-hidden="true" />
      <figcaption class="visually-hidden">
        {steps.length === 0
          ? 'No steps yet.'
          : `${steps.length} steps. Last training loss ${formatNumber(loss.at(-1))}${
              lastValidation >= 0
                ? `, last validation loss ${formatNumber(validation[lastValidation])} at step ${steps[lastValidation]}`
                : ''
            }.`}
      </figcaption>
    </figure>
  );
}
