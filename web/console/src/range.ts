// The time range every page honours, kept in the URL (range=1h|24h|7d, or
// since and until for a custom range) so that reloads and links keep it.

export const presets = ['1h', '24h', '7d'] as const;

export interface Range {
  preset: string; // one of presets, or 'custom'
  since?: string;
  until?: string;
}

export function current(): Range {
  const p = new URLSearchParams(location.search);
  const since = p.get('since') ?? undefined;
  const until = p.get('until') ?? undefined;
  if (since || until) return { preset: 'custom', since, until };
  const r = p.get('range');
  return { preset: r && (presets as readonly string[]).includes(r) ? r : '24h' };
}

/** params are the API's since/until for the range. */
export function params(r: Range = current()): { since?: string; until?: string } {
  if (r.preset === 'custom') return { since: r.since, until: r.until };
  return { since: r.preset };
}

/** search renders the range as URL parameters (the default 24h is implicit). */
export function search(r: Range): Record<string, string> {
  if (r.preset === 'custom') {
    const o: Record<string, string> = {};
    if (r.since) o.since = r.since;
    if (r.until) o.until = r.until;
    return o;
  }
  return r.preset === '24h' ? {} : { range: r.preset };
}

/** span is the range's length in seconds (for steps and rates). */
export function span(r: Range = current()): number {
  if (r.preset === '1h') return 3600;
  if (r.preset === '7d') return 7 * 86400;
  if (r.preset === '24h') return 86400;
  const s = r.since ? Date.parse(r.since) : Date.now() - 86400e3;
  const u = r.until ? Date.parse(r.until) : Date.now();
  return Math.max(60, (u - s) / 1000);
}
