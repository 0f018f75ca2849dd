// Summarizes a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, in % of the
// busy samples (idle excluded) and in ms.
import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  /** `function file:line`, the file shortened to its last two path segments. */
  name: string;
  selfMs: number;
  /** Share of the busy (non-idle) samples. */
  selfPercent: number;
}

export interface ProfileSummary {
  busyMs: number;
  top: ProfileRow[];
  /** Self time by package (node_modules name), Node internals, GC, or the data plane's own files. */
  byPackage: ProfileRow[];
  /** Inclusive time of the data plane's own functions (dataplane/src), callees included. */
  dataplaneInclusive: ProfileRow[];
}

/** Where a function's code lives: a package name, `node:` internals, `dataplane/src`, or a V8 pseudo-frame. */
function packageOf(functionName: string, url: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1]}` : (rest[0] ?? '?');
  }
  if (url.startsWith('node:')) return 'node internals';
  const dataplane = url.indexOf('/dataplane/src/');
  if (dataplane >= 0) return `dataplane/src/${url.slice(dataplane + '/dataplane/src/'.length).split('/')[0]}`;
  return url.split('/').slice(-2).join('/');
}

export function summarizeProfile(path: string, topN = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const timeById = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    timeById.set(id, (timeById.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const nameOf = (id: number): string => {
    const { functionName, url, lineNumber } = (byId.get(id) as CpuProfile['nodes'][number]).callFrame;
    const file = url === '' ? '' : ` ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    return `${functionName === '' ? '(anonymous)' : functionName}${file}`;
  };
  const selfByName = new Map<string, number>();
  const selfByPackage = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busyUs = 0;
  for (const node of profile.nodes) {
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') continue;
    const time = timeById.get(node.id) ?? 0;
    if (time === 0) continue;
    const name = nameOf(node.id);
    selfByName.set(name, (selfByName.get(name) ?? 0) + time);
    const pkg = packageOf(functionName, url);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + time);
    busyUs += time;
    // Charge the sample to every data-plane function on its stack, once each (recursion).
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parentOf.get(id)) {
      const frame = (byId.get(id) as CpuProfile['nodes'][number]).callFrame;
      if (!frame.url.includes('/dataplane/src/')) continue;
      const frameName = nameOf(id);
      if (seen.has(frameName)) continue;
      seen.add(frameName);
      inclusive.set(frameName, (inclusive.get(frameName) ?? 0) + time);
    }
  }
  const rows = (map: Map<string, number>, n: number): ProfileRow[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({
        name,
        selfMs: us / 1000,
        selfPercent: busyUs === 0 ? 0 : (us / busyUs) * 100,
      }));
  return {
    busyMs: busyUs / 1000,
    top: rows(selfByName, topN),
    byPackage: rows(selfByPackage, 15),
    dataplaneInclusive: rows(inclusive, topN),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = (rows: ProfileRow[]): string[] =>
    rows.map(
      (row) =>
        `${row.selfPercent.toFixed(1).padStart(5)}%  ${row.selfMs.toFixed(0).padStart(7)} ms  ${row.name}`,
    );
  return [
    `busy ${summary.busyMs.toFixed(0)} ms (idle excluded)`,
    'top self time:',
    ...lines(summary.top),
    'self time by package:',
    ...lines(summary.byPackage),
    ...(summary.dataplaneInclusive.length === 0
      ? []
      : ['inclusive time of data-plane functions (callees included):', ...lines(summary.dataplaneInclusive)]),
  ].join('\n');
}
