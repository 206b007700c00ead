// The chairmanship timeline drawn with Chart.js: floating horizontal bars on a time axis, one row
// per office (more when terms overlap, e.g. co-chairs), today marked. Loaded on demand (its own
// chunk) by the BodyTimeline component, which keeps the same data as a table for screen readers.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  Tooltip,
  type ChartConfiguration,
  type Plugin,
  type Scale,
  type ScriptableContext,
} from 'chart.js';
import type { Term } from '../api';
import { formatDate } from '../ui/format';
import { officeLabel, type TermPhase } from './body-common';
import { DAY, dayOf, timelineRows, type Bar } from './timeline-rows';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** Fill colours of the bars; white text on each has a contrast of at least 4.5:1. */
const PHASE_COLOUR: Record<Exclude<TermPhase, 'cancelled'>, string> = {
  past: '#5f6b7a',
  current: '#1f3a5f',
  upcoming: '#3d6aa3',
};
const CANCELLED_INK = '#8a1c1c';
const TODAY_INK = '#b35c00';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';

/** Tick positions: the first of a year (or of a month for short spans), few enough to read. */
function timeTicks(min: number, max: number): { value: number; label: string }[] {
  const start = new Date(min);
  const spanYears = (max - min) / (365.25 * DAY);
  const ticks: { value: number; label: string }[] = [];
  if (spanYears > 2.5) {
    const step = [1, 2, 5, 10, 20].find((s) => spanYears / s <= 12) ?? 50;
    let year = Math.ceil(start.getUTCFullYear() / step) * step;
    for (let t = Date.UTC(year, 0, 1); t <= max; t = Date.UTC((year += step), 0, 1)) {
      if (t >= min) ticks.push({ value: t, label: String(year) });
    }
  } else {
    const step = [1, 2, 3, 6].find((s) => (spanYears * 12) / s <= 12) ?? 12;
    const month = new Intl.DateTimeFormat('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
    let y = start.getUTCFullYear();
    let m = Math.ceil(start.getUTCMonth() / step) * step;
    for (;;) {
      const t = Date.UTC(y, m, 1);
      if (t > max) break;
      if (t >= min) ticks.push({ value: t, label: month.format(new Date(t)) });
      m += step;
      if (m >= 12) {
        y += Math.floor(m / 12);
        m %= 12;
      }
    }
  }
  return ticks;
}

/** A hatched fill for cancelled terms (not colour alone: the pattern and the row label say it). */
function hatch(): CanvasPattern | string {
  const tile = document.createElement('canvas');
  tile.width = 8;
  tile.height = 8;
  const ctx = tile.getContext('2d');
  if (!ctx) return '#fbe4e4';
  ctx.fillStyle = '#fbe4e4';
  ctx.fillRect(0, 0, 8, 8);
  ctx.strokeStyle = CANCELLED_INK;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(-2, 10);
  ctx.lineTo(10, -2);
  ctx.moveTo(-2, 2);
  ctx.lineTo(2, -2);
  ctx.moveTo(6, 10);
  ctx.lineTo(10, 6);
  ctx.stroke();
  return ctx.createPattern(tile, 'repeat') ?? '#fbe4e4';
}

/** The vertical "Today" line, drawn over the bars. */
function todayLine(today: number): Plugin<'bar'> {
  return {
    id: 'plenumToday',
    afterDatasetsDraw(chart) {
      const x = chart.scales.x;
      if (!x || today < x.min || today > x.max) return;
      const px = x.getPixelForValue(today);
      const { top, bottom } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = TODAY_INK;
      ctx.lineWidth = 2;
      ctx.setLineDash([5, 3]);
      ctx.beginPath();
      ctx.moveTo(px, top - 4);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = TODAY_INK;
      ctx.font = `600 12px ${FONT}`;
      // Kept inside the canvas when today is near either end of the axis.
      const half = ctx.measureText('Today').width / 2;
      const near = px + half > chart.width ? 'right' : px - half < 0 ? 'left' : 'center';
      ctx.textAlign = near;
      ctx.textBaseline = 'bottom';
      ctx.fillText('Today', near === 'right' ? px + 2 : near === 'left' ? px - 2 : px, top - 6);
      ctx.restore();
    },
  };
}

/** The organisation's short code inside each bar wide enough for it. */
const barLabels: Plugin<'bar'> = {
  id: 'plenumBarLabels',
  afterDatasetsDraw(chart) {
    const ctx = chart.ctx;
    const meta = chart.getDatasetMeta(0);
    const data = chart.data.datasets[0]?.data as unknown as Bar[] | undefined;
    if (!data) return;
    ctx.save();
    ctx.font = `600 12px ${FONT}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    meta.data.forEach((element, i) => {
      const bar = data[i];
      if (!bar) return;
      const { x, y, base, height } = element.getProps(['x', 'y', 'base', 'height'], true) as {
        x: number;
        y: number;
        base: number;
        height: number;
      };
      const width = Math.abs(x - base);
      const text = bar.term.organisation.short_code;
      if (width < ctx.measureText(text).width + 8 || height < 14) return;
      const cx = (x + base) / 2;
      if (bar.phase === 'cancelled') {
        // A solid plate behind the text keeps it readable on the hatching.
        const w = ctx.measureText(text).width + 6;
        ctx.fillStyle = '#ffffff';
        ctx.fillRect(cx - w / 2, y - 8, w, 16);
        ctx.fillStyle = CANCELLED_INK;
      } else {
        ctx.fillStyle = '#ffffff';
      }
      ctx.fillText(text, cx, y);
    });
    ctx.restore();
  },
};

function describe(bar: Bar): string {
  const phase = bar.phase === 'upcoming' ? 'upcoming' : bar.phase;
  const person = bar.term.person ? `, ${bar.term.person.display_name}` : '';
  return `${officeLabel(bar.term.office)}${person}: ${formatDate(bar.term.starts_on)} – ${formatDate(bar.term.ends_on)} (${phase})`;
}

/** Draws the timeline on `canvas`; the caller destroys the chart when it unmounts or the data change. */
export function drawTimeline(canvas: HTMLCanvasElement, terms: Term[], today: string): Chart<'bar', Bar[], string> {
  const { rows, bars } = timelineRows(terms, today);
  const todayMs = dayOf(today);
  const starts = bars.map((b) => b.x[0]);
  const ends = bars.map((b) => b.x[1]);
  const first = Math.min(todayMs, ...starts);
  const last = Math.max(todayMs + DAY, ...ends);
  // Whole years around the terms (whole months for spans under a year or so).
  const short = last - first < 700 * DAY;
  const f = new Date(first);
  const l = new Date(last);
  const min = short ? Date.UTC(f.getUTCFullYear(), f.getUTCMonth(), 1) : Date.UTC(f.getUTCFullYear(), 0, 1);
  const max = short ? Date.UTC(l.getUTCFullYear(), l.getUTCMonth() + 1, 1) : Date.UTC(l.getUTCFullYear() + 1, 0, 1);
  const pattern = hatch();
  const fill = (ctx: ScriptableContext<'bar'>) => {
    const bar = ctx.raw as Bar | undefined;
    if (!bar) return PHASE_COLOUR.past;
    return bar.phase === 'cancelled' ? pattern : PHASE_COLOUR[bar.phase];
  };
  const config: ChartConfiguration<'bar', Bar[], string> = {
    type: 'bar',
    data: {
      labels: rows,
      datasets: [
        {
          label: 'Terms',
          data: bars,
          backgroundColor: fill,
          borderColor: (ctx) => ((ctx.raw as Bar | undefined)?.phase === 'cancelled' ? CANCELLED_INK : '#ffffff'),
          borderWidth: (ctx) => ((ctx.raw as Bar | undefined)?.phase === 'cancelled' ? 2 : 1),
          borderSkipped: false,
          grouped: false,
          barPercentage: 0.8,
          categoryPercentage: 0.9,
        },
      ],
    },
    options: {
      indexAxis: 'y',
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      layout: { padding: { top: 20, right: 12 } },
      parsing: { xAxisKey: 'x', yAxisKey: 'y' },
      scales: {
        x: {
          type: 'linear',
          min,
          max,
          grid: { color: '#e2e6ec' },
          afterBuildTicks: (scale: Scale) => {
            scale.ticks = timeTicks(min, max);
          },
          ticks: {
            color: '#4a5568',
            font: { family: FONT, size: 12 },
            autoSkip: true,
            maxRotation: 0,
            callback: (_value, index, ticks) => (ticks[index] as { label?: string }).label ?? '',
          },
        },
        y: {
          type: 'category',
          grid: { display: false },
          ticks: { color: '#1b2330', font: { family: FONT, size: 13, weight: 600 } },
        },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => {
              const bar = items[0]?.raw as Bar | undefined;
              return bar ? `${bar.term.organisation.name} (${bar.term.organisation.short_code})` : '';
            },
            label: (item) => describe(item.raw as Bar),
          },
        },
      },
    },
    plugins: [todayLine(todayMs), barLabels],
  };
  return new Chart(canvas, config);
}
