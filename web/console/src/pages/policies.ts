import { call, type PolicyCheck, type PolicyFile, type WhatIf } from '../api';
import { link, type Ctx } from '../app';
import { badge, card, clear, errorBox, h, loading, num, time } from '../dom';
import * as range from '../range';
import { table } from '../table';
import { DRAFT_KEY } from './segmentation';

const example = `version: 1
name: my-baseline
description: what the network may do
rules:
  - name: no-telnet
    severity: high
    technique: T1021
    deny: {proto: tcp, to: {port: 23}}
  - name: plant-ot-isolated
    severity: high
    to: {segment: plant-ot}
    only_from: {segment: plant-ot}
`;

export default async function policies(ctx: Ctx): Promise<void> {
  const list = await call<{ items: PolicyFile[] }>('/policies', { signal: ctx.signal });
  const files = h('div', { 'data-testid': 'policy-files' },
    list.items.length
      ? list.items.map((f) => h('div.policy-file',
          h('div.title', h('strong', f.name ?? f.file), h('span.muted.small', ' ' + f.file)),
          f.description ? h('p.muted', f.description) : null,
          f.error ? errorBox({ code: 'load_error', message: typeof f.error === 'string' ? f.error : f.error.message }) : null,
          f.rules ? table(
            [
              { label: 'Rule', value: (r) => r.name, render: (r) => link('/findings', r.name, { detector: 'policy', rule: r.name }) },
              { label: 'Kind', value: (r) => r.kind },
              { label: 'Severity', value: (r) => r.severity, render: (r) => badge(r.severity) },
              { label: 'ATT&CK', value: (r) => r.technique ?? '', render: (r) => r.technique ?? '–' },
              { label: 'Description', render: (r) => h('span.muted', r.description ?? '') },
            ],
            f.rules,
          ) : null))
      : h('div.empty', 'No policy files in force (detect.policies).'));
  const draft = sessionStorage.getItem(DRAFT_KEY);
  const editor = h('textarea.code', { rows: 18, spellcheck: false, 'aria-label': 'policy YAML', 'data-testid': 'policy-editor', value: draft ?? example });
  const gutter = h('pre.gutter', { 'aria-hidden': 'true' });
  const syncGutter = () => {
    const n = editor.value.split('\n').length;
    gutter.textContent = Array.from({ length: n }, (_, i) => String(i + 1)).join('\n');
    gutter.scrollTop = editor.scrollTop;
  };
  editor.addEventListener('input', () => { syncGutter(); sessionStorage.setItem(DRAFT_KEY, editor.value); });
  editor.addEventListener('scroll', () => { gutter.scrollTop = editor.scrollTop; });
  syncGutter();
  const result = h('div.result', { 'data-testid': 'policy-result' });
  const whatif = h('div', { 'data-testid': 'whatif-result' });
  const validate = async () => {
    clear(result, loading());
    gutter.querySelectorAll('mark').forEach((m) => m.remove());
    try {
      const c = await call<PolicyCheck>('/policies/validate', { method: 'POST', body: editor.value, contentType: 'application/yaml' });
      if (c.valid) {
        clear(result, h('div.ok', `Valid: policy "${c.name}", ${c.rules?.length ?? 0} rules — `, (c.rules ?? []).map((r) => r.name).join(', ')));
      } else {
        const e = c.error!;
        clear(result, h('div.error', { role: 'alert' }, h('strong', 'invalid'),
          e.line ? ` line ${e.line}` : '', e.rule ? `, ${e.rule}` : '', e.field ? `, field ${e.field}` : '', ': ', e.message));
        if (e.line) selectLine(editor, e.line);
      }
    } catch (err) {
      clear(result, errorBox(err));
    }
  };
  const runWhatIf = async (inForce: boolean) => {
    clear(whatif, loading());
    try {
      const w = await call<WhatIf>('/policies/whatif', { method: 'POST', body: inForce ? '' : editor.value, contentType: 'application/yaml',
        query: { ...range.params(), examples: 3 } });
      clear(whatif,
        h('p', `Over ${num(w.sessions)} stored sessions of the range`, w.eval_errors ? `, ${num(w.eval_errors)} evaluation errors` : '', ':'),
        table(
          [
            { label: 'Policy / rule', value: (r) => r.policy + r.rule, render: (r) => h('span', h('span.muted', r.policy + ' / '), r.rule) },
            { label: 'Severity', value: (r) => r.severity, render: (r) => badge(r.severity) },
            { label: 'Sessions', value: (r) => r.sessions, num: true, render: (r) => num(r.sessions) },
            { label: 'Findings', value: (r) => r.findings, num: true, render: (r) => num(r.findings) },
            { label: 'Examples', render: (r) => h('ul.examples', (r.examples ?? []).map((x) => h('li', h('span.muted.small', time(x.time) + ' '), x.summary))) },
          ],
          w.rules,
          { testid: 'whatif-table', emptyText: 'No rule would have matched a session in this range.' },
        ));
    } catch (err) {
      clear(whatif, errorBox(err));
    }
  };
  ctx.main.append(
    card('Policies in force', files),
    card('Editor',
      h('p.muted.small', 'A policy file as docs/policies.md describes it. Validate checks it; What-if runs it over the stored sessions of the time range.'),
      h('div.policy-work', h('div', h('div.editor', gutter, editor),
      ctx.canTriage
        ? h('div.actions',
            h('button.primary', { onclick: validate, 'data-testid': 'validate' }, 'Validate'),
            h('button', { onclick: () => runWhatIf(false), 'data-testid': 'whatif' }, 'What-if (this file)'),
            h('button', { onclick: () => runWhatIf(true) }, 'What-if (policies in force)'),
            h('button.link', { onclick: () => { editor.value = example; syncGutter(); sessionStorage.removeItem(DRAFT_KEY); } }, 'Reset'))
        : h('p.muted.small', { 'data-testid': 'read-only' }, 'Validating and what-ifs need the analyst role.'),
      ), h('div', result, whatif)),
    ),
  );
}

function selectLine(t: HTMLTextAreaElement, line: number): void {
  const lines = t.value.split('\n');
  let start = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
  const end = start + (lines[line - 1]?.length ?? 0);
  t.focus();
  t.setSelectionRange(start, end);
  const lh = parseFloat(getComputedStyle(t).lineHeight) || 18;
  t.scrollTop = Math.max(0, (line - 4) * lh);
}
