// The results table: one row per measured run, data-plane rows with their ratio to the bare
// baseline of the same transport, operation and concurrency.
import type { LoadResult } from './load.ts';

export type Transport = 'REST' | 'gRPC';

export interface Row {
  target: string;
  /** True for the bare servers the data-plane rows are compared with. */
  baseline: boolean;
  transport: Transport;
  op: 'GET' | 'SET';
  inFlight: number;
  result: LoadResult;
}

/** A generator above this much of one core may be what limits the figures. */
const SATURATED_CPU_PERCENT = 90;
/** Other processes above this much of the machine make a run's figures unreliable. */
export const OTHER_CPU_WARNING = 10;

export function formatTable(rows: Row[]): string {
  const header = [
    'transport',
    'op',
    'in-flight',
    'target',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'gen CPU',
    'other CPU',
    'req/s ÷ bare',
    'p50 ÷ bare',
    'p99 ÷ bare',
  ];
  // REST before gRPC, then 32 in flight before 1, GET before SET, the baseline first.
  const rank = (row: Row): number =>
    (row.transport === 'REST' ? 0 : 8) +
    (row.inFlight > 1 ? 0 : 4) +
    (row.op === 'GET' ? 0 : 2) +
    (row.baseline ? 0 : 1);
  const ordered = [...rows].sort((a, b) => rank(a) - rank(b));
  const lines = ordered.map((row) => {
    const { result } = row;
    const bare = row.baseline ? undefined : baselineOf(rows, row)?.result;
    const ratio = (mine: number, theirs: number | undefined): string =>
      theirs === undefined ? '' : `${(mine / theirs).toFixed(2)}x`;
    const cpu = result.generatorCpuPercent;
    const other = result.otherCpuPercent;
    return [
      row.transport,
      row.op,
      String(row.inFlight),
      row.target,
      result.rps.toFixed(0),
      result.p50Ms.toFixed(3),
      result.p99Ms.toFixed(3),
      result.errors === 0 ? '0' : `${result.errors} !`,
      cpu === undefined ? '-' : `${cpu.toFixed(0)}%${cpu >= SATURATED_CPU_PERCENT ? ' !' : ''}`,
      other === undefined ? '-' : `${other.toFixed(0)}%${other > OTHER_CPU_WARNING ? ' !' : ''}`,
      ratio(result.rps, bare?.rps),
      ratio(result.p50Ms, bare?.p50Ms),
      ratio(result.p99Ms, bare?.p99Ms),
    ];
  });
  return [...alignColumns([header, ...lines]), ...notes(ordered)].join('\n');
}

function baselineOf(rows: Row[], row: Row): Row | undefined {
  return rows.find(
    (other) =>
      other.baseline &&
      other.transport === row.transport &&
      other.op === row.op &&
      other.inFlight === row.inFlight,
  );
}

function alignColumns(table: string[][]): string[] {
  const widths = table[0]?.map((_, column) => Math.max(...table.map((line) => line[column]?.length ?? 0)));
  const leftAligned = 4; // transport, op, in-flight, target
  return table.map((line, index) => {
    const cells = line.map((cell, column) => {
      const width = widths?.[column] ?? 0;
      return column < leftAligned ? cell.padEnd(width) : cell.padStart(width);
    });
    const text = cells.join('  ');
    return index === 0 ? `${text}\n${'-'.repeat(text.length)}` : text;
  });
}

function notes(rows: Row[]): string[] {
  const flagged: string[] = [];
  for (const row of rows) {
    const name = `${row.transport} ${row.op} x${row.inFlight} on ${row.target}`;
    if (row.result.errors > 0) {
      flagged.push(`! ${name}: ${row.result.errors} errors, first: ${row.result.firstError ?? '?'}`);
    }
    if ((row.result.generatorCpuPercent ?? 0) >= SATURATED_CPU_PERCENT) {
      flagged.push(`! ${name}: the load generator used ≥${SATURATED_CPU_PERCENT}% of a core (saturated?)`);
    }
    if ((row.result.otherCpuPercent ?? 0) > OTHER_CPU_WARNING) {
      flagged.push(
        `! ${name}: other processes used ${row.result.otherCpuPercent?.toFixed(0)}% of the machine`,
      );
    }
  }
  return flagged.length === 0 ? [] : ['', ...flagged];
}
