// The plain preview page: lists recommendations and critical alerts, follows /api/stream, decides.
// Plain browser JavaScript (no build step); it uses exactly the routes in docs/api.md.
'use strict';

const state = { token: '', recs: new Map(), lastEventId: undefined, alerts: [] };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function headers(extra) {
  return Object.assign({ Authorization: `Bearer ${state.token}` }, extra || {});
}

function showError(message) {
  const p = document.getElementById('error');
  p.textContent = message;
  p.hidden = !message;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, init) {
  const res = await fetch(path, Object.assign({}, init, { headers: headers(init && init.headers) }));
  const body = await res.json().catch(() => ({}));
  if (!res.ok)
    throw new ApiError(res.status, `${res.status} ${body.code || ''}: ${body.message || res.statusText}`);
  return body;
}

function actionText(a) {
  if (!a) return '–';
  const cur = a.currentValue === null ? '?' : a.currentValue;
  return `${a.setpointName}: ${cur} → ${a.newValue} ${a.unit}${a.requiresSecondApprover ? ' (2 approvers)' : ''}`;
}

async function decide(rec, decision) {
  const body = { decision, expectedVersion: rec.version };
  if (decision === 'reject') {
    const note = window.prompt('Why reject? (required)');
    if (!note) return;
    body.note = note;
  }
  if (decision === 'defer') body.deferUntil = new Date(Date.now() + 15 * 60_000).toISOString();
  try {
    const updated = await api(`/api/recommendations/${encodeURIComponent(rec.id)}/decision`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    upsert(updated);
    showError('');
  } catch (err) {
    showError(err.message);
  }
}

function row(rec) {
  const actions = el('td', {});
  if (rec.status === 'pending' || rec.status === 'deferred') {
    actions.append(
      el('button', { class: 'approve', type: 'button', onclick: () => decide(rec, 'approve') }, 'Approve'),
      el('button', { class: 'defer', type: 'button', onclick: () => decide(rec, 'defer') }, 'Defer 15 min'),
      el('button', { class: 'reject', type: 'button', onclick: () => decide(rec, 'reject') }, 'Reject'),
    );
  }
  const tr = el(
    'tr',
    { 'data-id': rec.id },
    el('td', {}, rec.equipmentId),
    el('td', {}, rec.issueType),
    el('td', { class: `sev-${rec.severity}` }, rec.severity),
    el('td', {}, rec.text),
    el('td', {}, actionText(rec.proposedAction)),
    el('td', {}, Number(rec.confidence).toFixed(2)),
    el('td', {}, `${rec.occurrenceCount}× ${new Date(rec.lastSeenAt).toLocaleTimeString()}`),
    el(
      'td',
      { class: 'status' },
      rec.status + (rec.writeResult && rec.writeResult.reason ? ` (${rec.writeResult.reason})` : ''),
    ),
    actions,
  );
  return tr;
}

function render(flashId) {
  const body = document.getElementById('recs');
  const recs = [...state.recs.values()].sort((a, b) => (a.lastSeenAt < b.lastSeenAt ? 1 : -1)).slice(0, 100);
  body.replaceChildren(
    ...recs.map((r) => {
      const tr = row(r);
      if (r.id === flashId) tr.classList.add('flash');
      return tr;
    }),
  );
  const alerts = document.getElementById('alerts');
  alerts.replaceChildren(
    ...state.alerts
      .slice(0, 50)
      .map((a) =>
        el(
          'li',
          {},
          `${new Date(a.at).toLocaleTimeString()}  ${a.equipmentId} ${a.sensorType} = ${a.value} (${a.level} ≥ ${a.threshold}): ${a.message}`,
        ),
      ),
  );
}

/** Keeps the newest version of each recommendation, whichever arrives first (list or stream). */
function merge(rec) {
  const prev = state.recs.get(rec.id);
  if (prev && prev.version > rec.version) return false;
  state.recs.set(rec.id, rec);
  return true;
}

function upsert(rec) {
  if (merge(rec)) render(rec.id);
}

function setConn(text, live) {
  const c = document.getElementById('conn');
  c.textContent = text;
  c.classList.toggle('live', live);
}

function handleEvent(type, data) {
  const change = JSON.parse(data);
  if (type === 'recommendation') upsert(change.recommendation);
  else if (type === 'critical_alert') {
    state.alerts.unshift(change.alert);
    render();
  }
}

// SSE over fetch (EventSource cannot send an Authorization header); resumes with Last-Event-ID.
async function follow() {
  for (;;) {
    try {
      const h = headers({ Accept: 'text/event-stream' });
      if (state.lastEventId !== undefined) h['Last-Event-ID'] = state.lastEventId;
      const res = await fetch('/api/stream', { headers: h });
      if (!res.ok) throw new Error(`stream: HTTP ${res.status}`);
      setConn('live', true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut;
        while ((cut = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let id,
            type = 'message',
            data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (id !== undefined) state.lastEventId = id;
          if (data) handleEvent(type, data);
        }
      }
    } catch (err) {
      setConn(`reconnecting (${err.message})`, false);
    }
    await sleep(2000);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Retries a transient failure (network, 5xx, 429) with backoff; a refused token or a bad request
// (other 4xx) is shown and not retried.
async function withRetry(what, fn) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      if (status >= 400 && status < 500 && status !== 429) throw err;
      showError(`${what}: ${err.message} - retrying`);
      await sleep(Math.min(15_000, 1_000 * 2 ** attempt));
    }
  }
}

async function start() {
  try {
    const me = await withRetry('who am I', () => api('/api/me'));
    document.getElementById('who').textContent = `${me.user} (${me.roles.join(', ')})`;
    // Follow the stream first, so nothing that changes while the lists load falls in a gap;
    // merge() keeps the newest version whichever way it arrives.
    follow();
    const list = await withRetry('recommendations', () => api('/api/recommendations?limit=100'));
    for (const r of list.items) merge(r);
    const alerts = await withRetry('critical alerts', () => api('/api/critical-alerts?limit=50')).catch(
      () => ({ items: [] }),
    );
    const seen = new Set(state.alerts.map((a) => a.id));
    state.alerts = state.alerts.concat(alerts.items.filter((a) => !seen.has(a.id)));
    showError('');
    render();
  } catch (err) {
    showError(err.message);
    setConn('not connected', false);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  const meta = document.querySelector('meta[name="sidecar-token"]');
  state.token = (meta && meta.content) || sessionStorage.getItem('sidecar-token') || '';
  if (!state.token) {
    document.getElementById('token-box').hidden = false;
    document.getElementById('token-save').addEventListener('click', () => {
      state.token = document.getElementById('token').value.trim();
      sessionStorage.setItem('sidecar-token', state.token);
      document.getElementById('token-box').hidden = true;
      start();
    });
    setConn('no token', false);
    return;
  }
  start();
});
