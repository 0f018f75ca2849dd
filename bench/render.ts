// Renders report.md and the SVG charts again from a run's result.json (after a change to the report).
//   node bench/render.ts bench/results/<run>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCharts, renderMarkdown, type SuiteResult } from './lib/report.ts';

const dir = process.argv[2];
if (dir === undefined) {
  console.error('usage: node bench/render.ts <results directory>');
  process.exit(2);
}
const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as SuiteResult;
const charts = renderCharts(result);
writeFileSync(join(dir, 'throughput.svg'), charts.throughput);
writeFileSync(join(dir, 'latency.svg'), charts.latency);
writeFileSync(join(dir, 'report.md'), renderMarkdown(result));
console.log(`rendered ${join(dir, 'report.md')}`);
