// The REST API client (docs/api.md): the bearer token from
// sessionStorage on every call, errors in the API's one shape.

const TOKEN_KEY = 'osprey.token';

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(t: string | null): void {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** ApiError is an answer in the error shape: {"error": {code, message, param, column}}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param?: string,
    readonly column?: number,
  ) {
    super(message);
  }
}

/** Called on a 401: the app returns to the login page. */
let onUnauthenticated: (msg: string) => void = () => {};
export function handleUnauthenticated(f: (msg: string) => void): void {
  onUnauthenticated = f;
}

export type Query = Record<string, string | number | undefined | null>;

export function qs(q: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? '?' + s : '';
}

export interface CallOptions {
  method?: string;
  query?: Query;
  body?: string;
  contentType?: string;
  signal?: AbortSignal;
  /** keep a 401 to the caller (the login form) rather than signing out */
  own401?: boolean;
}

export async function call<T>(path: string, o: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  if (o.body !== undefined) headers['Content-Type'] = o.contentType ?? 'application/json';
  let res: Response;
  try {
    res = await fetch('/api/v1' + path + qs(o.query ?? {}), {
      method: o.method ?? 'GET',
      headers,
      body: o.body,
      signal: o.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'the API did not answer: ' + (e as Error).message);
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const e = (data as { error?: { code: string; message: string; param?: string; column?: number } } | undefined)?.error;
    const err = new ApiError(res.status, e?.code ?? 'http_' + res.status, e?.message ?? (text || res.statusText), e?.param, e?.column);
    if (res.status === 401 && !o.own401) onUnauthenticated(err.message);
    throw err;
  }
  return data as T;
}

// The shapes the console reads (a subset of the OpenAPI document).

export interface Whoami {
  id: string;
  name: string;
  tenant: string;
  role: 'viewer' | 'analyst' | 'admin' | 'ingest';
  expires?: string;
}

export interface TopRow {
  key: string;
  bytes: number;
  packets: number;
  sessions: number;
}

export interface Page<T> {
  items: T[];
  next?: string;
}

export interface Evidence {
  summary?: string;
  first_seen?: string;
  last_seen?: string;
  count?: number;
  sessions?: string[];
  values?: Record<string, unknown>;
  state?: string;
  [k: string]: unknown;
}

export interface Finding {
  id: string;
  time: string;
  detector: string;
  rule: string;
  severity: string;
  entities?: string[];
  evidence?: Evidence;
  state: string;
  dedupe_key: string;
  technique?: string;
}

export interface Overview {
  since: string;
  until?: string;
  step: string;
  traffic: { time: string; bytes: number; sessions: number }[];
  totals: TopRow;
  top_talkers: TopRow[];
  apps: TopRow[];
  findings: {
    total: number;
    by_severity: Record<string, number>;
    by_state: Record<string, number>;
    open_by_severity: Record<string, number>;
  };
  recent_findings: Finding[];
}

export interface End {
  ip: string;
  port: number;
  mac?: string;
  asset?: string;
  asset_name?: string;
  tags?: string[];
  segment?: string;
  country?: string;
}

export interface Session {
  uid: string;
  seq: number;
  start: string;
  end: string;
  orig: End;
  resp: End;
  transport: string;
  conn_state?: string;
  history?: string;
  orig_pkts: number;
  resp_pkts: number;
  orig_bytes: number;
  resp_bytes: number;
  app?: string;
  source?: string;
  sensor?: string;
  direction?: string;
  l7?: Record<string, unknown>;
  intel?: unknown[];
}

export interface Device {
  id: string;
  first_seen: string;
  last_seen: string;
  macs?: string[];
  ips?: string[];
  category?: string;
  risk?: number;
  attributes?: DeviceAttributes;
}

export interface DeviceAttributes {
  segment?: string;
  tags?: string[];
  hostnames?: string[];
  vendor?: string;
  os?: { name: string; confidence: number };
  category?: { name: string; confidence: number; evidence?: { rule: string; detail: string; score: number }[] };
  services?: { proto: string; port: number; app?: string; sessions: number; clients?: number; last_seen?: string }[];
  [k: string]: unknown;
}

export interface TimePoint {
  time: string;
  value: number;
}

export interface Timeline {
  device: Device;
  step: string;
  since: string;
  until?: string;
  metrics: Record<string, TimePoint[]>;
  peers: TopRow[];
  ports: { time: string; port: number; sessions: number }[];
  listening_tcp_ports: TimePoint[];
}

export interface Cell {
  src: string;
  dst: string;
  value: number;
}

export interface PolicyRule {
  name: string;
  kind: string;
  severity: string;
  technique?: string;
  description?: string;
}

export interface PolicyFile {
  name?: string;
  file: string;
  description?: string;
  rules?: PolicyRule[];
  error?: string | { message: string; line?: number; rule?: string; field?: string };
}

export interface PolicyCheck {
  valid: boolean;
  name?: string;
  rules?: PolicyRule[];
  error?: { line?: number; rule?: string; field?: string; message: string };
}

export interface WhatIf {
  sessions: number;
  eval_errors: number;
  rules: {
    policy: string;
    rule: string;
    severity: string;
    sessions: number;
    findings: number;
    examples?: { time: string; summary: string; entities?: string[]; sessions?: string[] }[];
  }[];
}

export interface Source {
  name: string;
  kind: string;
  healthy: boolean;
  status?: string;
  metrics?: Record<string, number>;
}

export interface Recommendation {
  src: string;
  dst: string;
  ports: { proto: string; port: number; sessions: number; bytes: number }[];
  sessions: number;
  bytes: number;
}

export interface Capacity {
  name: string;
  src: string;
  dst: string;
  bandwidth_bps: number;
  peak_bps: number;
  p95_bps: number;
  utilisation: number;
  warning: boolean;
}
