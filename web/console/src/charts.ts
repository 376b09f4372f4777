// ECharts, tree-shaken: only the charts and components the pages draw.
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  HeatmapChart,
  LineChart,
  PieChart,
  ScatterChart,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type Option = echarts.EChartsCoreOption;

const live = new Set<echarts.ECharts>();
const resize = new ResizeObserver((entries) => {
  for (const e of entries) echarts.getInstanceByDom(e.target as HTMLElement)?.resize();
});

export const palette = ['#2f6fde', '#18a38a', '#e0a21a', '#8c56d6', '#d8475d', '#3aa0c8', '#7b8794', '#c9701c', '#5b8c2a', '#b83f9a'];

export const severityColour: Record<string, string> = {
  critical: '#a3123a',
  high: '#d8475d',
  medium: '#e0a21a',
  low: '#3aa0c8',
  info: '#7b8794',
};

/** chart draws option into a new element of the given height; it is
 * disposed of when the page changes (disposeAll). */
export function chart(option: Option, height = 260, testid?: string): HTMLElement {
  const el = document.createElement('div');
  el.className = 'chart';
  el.style.height = height + 'px';
  if (testid) el.dataset.testid = testid;
  // Drawn once the element is in the page and has a size.
  requestAnimationFrame(() => {
    if (!el.isConnected) return;
    const c = echarts.init(el, undefined, { renderer: 'canvas' });
    c.setOption({ color: palette, textStyle: { fontFamily: 'inherit' }, animation: false, ...option });
    live.add(c);
    resize.observe(el);
  });
  return el;
}

export function disposeAll(): void {
  for (const c of live) {
    resize.unobserve(c.getDom());
    c.dispose();
  }
  live.clear();
}

export const axisTime = {
  type: 'time',
  axisLine: { lineStyle: { color: '#9aa5b1' } },
  splitLine: { show: false },
};

export function axisValue(fmt: (v: number) => string, name?: string) {
  return {
    type: 'value',
    name,
    nameTextStyle: { color: '#7b8794', fontSize: 11 },
    axisLabel: { formatter: fmt, color: '#52606d', fontSize: 11 },
    splitLine: { lineStyle: { color: '#eef2f6' } },
  };
}

export const grid = { left: 56, right: 56, top: 28, bottom: 28, containLabel: false };
