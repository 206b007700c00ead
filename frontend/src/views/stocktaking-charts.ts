// The stocktaking dashboard's charts, drawn with Chart.js (loaded on demand, its own chunk):
// stacked horizontal bars of the status distribution (per theme, per participant) and a line of
// progress over time. The dashboard keeps the same data as tables for screen readers.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';
const INK = '#1b2330';
const MUTED = '#4a5568';
const GRID = '#e2e6ec';

export interface Series {
  label: string;
  colour: string;
  values: number[];
}

function fonts(large: boolean) {
  return { tick: large ? 18 : 13, legend: large ? 18 : 13 };
}

/** Stacked horizontal bars: one bar per row label, one segment per series. */
export function drawStacked(canvas: HTMLCanvasElement, labels: string[], series: Series[], large: boolean): Chart<'bar'> {
  const f = fonts(large);
  const config: ChartConfiguration<'bar', number[], string> = {
    type: 'bar',
    data: {
      labels,
      datasets: series.map((s) => ({
        label: s.label,
        data: s.values,
        backgroundColor: s.colour,
        borderColor: '#ffffff',
        borderWidth: 1,
        barPercentage: 0.8,
        categoryPercentage: 0.9,
      })),
    },
    options: {
      indexAxis: 'y',
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: {
          stacked: true,
          beginAtZero: true,
          grid: { color: GRID },
          ticks: { color: MUTED, precision: 0, font: { family: FONT, size: f.tick } },
          title: { display: true, text: 'Implementation records', color: MUTED, font: { family: FONT, size: f.tick } },
        },
        y: {
          stacked: true,
          grid: { display: false },
          ticks: { color: INK, autoSkip: false, font: { family: FONT, size: f.tick, weight: 600 } },
        },
      },
      plugins: {
        legend: { position: 'top', labels: { color: INK, boxWidth: large ? 24 : 16, font: { family: FONT, size: f.legend } } },
        tooltip: { mode: 'index', intersect: false },
      },
    },
  };
  return new Chart(canvas, config);
}

/** Progress (%) over time, with the overdue records on a second axis. */
export function drawProgressLine(
  canvas: HTMLCanvasElement,
  labels: string[],
  progress: number[],
  overdue: number[],
  large: boolean,
): Chart<'line'> {
  const f = fonts(large);
  const config: ChartConfiguration<'line', number[], string> = {
    type: 'line',
    data: {
      labels,
      datasets: [
        {
          label: 'Progress (%)',
          data: progress,
          borderColor: '#1f3a5f',
          backgroundColor: '#1f3a5f',
          borderWidth: large ? 4 : 3,
          pointRadius: large ? 5 : 3,
          yAxisID: 'y',
        },
        {
          label: 'Overdue records',
          data: overdue,
          borderColor: '#8a1c1c',
          backgroundColor: '#8a1c1c',
          borderWidth: large ? 3 : 2,
          borderDash: [6, 4],
          pointStyle: 'rectRot',
          pointRadius: large ? 6 : 4,
          yAxisID: 'y1',
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { grid: { color: GRID }, ticks: { color: MUTED, font: { family: FONT, size: f.tick } } },
        y: {
          min: 0,
          max: 100,
          position: 'left',
          grid: { color: GRID },
          ticks: { color: MUTED, font: { family: FONT, size: f.tick }, callback: (v) => `${v} %` },
          title: { display: true, text: 'Progress', color: MUTED, font: { family: FONT, size: f.tick } },
        },
        y1: {
          beginAtZero: true,
          position: 'right',
          grid: { drawOnChartArea: false },
          ticks: { color: MUTED, precision: 0, font: { family: FONT, size: f.tick } },
          title: { display: true, text: 'Overdue records', color: MUTED, font: { family: FONT, size: f.tick } },
        },
      },
      plugins: {
        legend: { position: 'top', labels: { color: INK, font: { family: FONT, size: f.legend } } },
        tooltip: { mode: 'index', intersect: false },
      },
    },
  };
  return new Chart(canvas, config);
}
