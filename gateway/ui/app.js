// hookgate's operator's console (docs/console.md). No framework, no build step.
// Every value from the API is attacker-controlled text: it reaches the DOM only
// through textContent, text nodes and setAttribute of non-URL attributes. The
// only URLs built here are fixed paths plus encodeURIComponent'd seq numbers
// (and a configured sink name, see sinkPath). The admin token is sent once to
// /api/login and never stored; the CSRF value lives in S.csrf only.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const S = { csrf: null, gen: 0, timers: [], es: null, esRetry: null, view: null };
  const STATES = ['delivered', 'pending', 'retrying', 'dead', 'filtered'];
  const E = { seen: new Set(), next: null, filter: {}, liveTimer: null, liveTries: 0 };
  const R = { seen: new Set(), next: null, filter: {}, liveTimer: null };
  const D = { sink: null };
  const EV = { seq: null, replayed: new Map(), before: {} };

  // ---- DOM helpers ------------------------------------------------------------------
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'style' || k.startsWith('on') || k === 'href' || k === 'src') throw new Error('el: ' + k);
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const k of kids) {
      if (k === null || k === undefined) continue;
      e.append(k instanceof Node ? k : String(k));
    }
    return e;
  }
  const text = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));
  const td = (v, cls) => el('td', cls ? { class: cls } : {}, v instanceof Node ? v : text(v));
  const isSeq = (s) => Number.isSafeInteger(s) && s >= 0;
  function seqLink(seq, label) {
    if (!isSeq(seq)) return document.createTextNode(text(seq));
    const a = el('a', { class: 'seq' }, label || String(seq));
    a.setAttribute('href', '#/event/' + encodeURIComponent(seq));
    return a;
  }
  function stateBadge(name, state) {
    const st = STATES.includes(state) ? state : 'other';
    return el('span', { class: 'state st-' + st, 'data-sink': name, 'data-state': text(state) },
      name === null ? text(state) : name + ': ' + text(state));
  }
  function fmtTime(s) {
    return typeof s === 'string' ? s.replace('T', ' ') : text(s);
  }
  function fmtNum(v, digits) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return text(v);
    return digits === undefined ? String(v) : v.toFixed(digits);
  }
  function fmtSize(n) {
    if (typeof n !== 'number') return text(n);
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
  }
  const clock = (d) => d.toISOString().slice(11, 19);
  function setMsg(id, msg, bad) {
    const m = $(id);
    m.textContent = msg || '';
    m.classList.toggle('bad', !!bad);
  }
  function showError(e) {
    if (e && e.handled) return;
    const box = $('error');
    box.textContent = e && e.message ? e.message : String(e);
    box.hidden = false;
  }
  function later(fn, ms, repeat) {
    const gen = S.gen;
    const wrapped = () => { if (gen === S.gen) fn(); };
    S.timers.push(repeat ? setInterval(wrapped, ms) : setTimeout(wrapped, ms));
  }
  function clearTimers() {
    for (const t of S.timers) { clearTimeout(t); clearInterval(t); }
    S.timers = [];
  }

  // ---- the API ----------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, msg, handled) { super(msg); this.status = status; this.handled = !!handled; }
  }
  async function api(method, path, body) {
    const opt = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      opt.headers['Content-Type'] = 'application/json';
      opt.headers['X-CSRF-Token'] = S.csrf || '';
      opt.body = JSON.stringify(body || {});
    }
    let r;
    try {
      r = await fetch(path, opt);
    } catch (e) {
      throw new ApiError(0, 'The gateway did not answer (' + e.message + ').');
    }
    const raw = await r.text();
    let data = null;
    try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
    const err = data && typeof data.error === 'string' ? data.error : null;
    if (r.status === 404 && err && /console is off/.test(err)) {
      showOff(err);
      throw new ApiError(404, err, true);
    }
    if (r.status === 401 && path !== '/api/login') {
      signedOut(S.csrf ? 'Your session has ended: sign in again.' : '');
      throw new ApiError(401, err || 'sign in', true);
    }
    if (!r.ok) throw new ApiError(r.status, err || 'HTTP ' + r.status + ' from ' + path.split('?')[0]);
    return { status: r.status, data: data || {} };
  }
  function sinkPath(name) {
    // a sink name comes from the config, not from a producer; still, never a dot segment
    const n = String(name);
    if (n === '.' || n === '..' || n === '') throw new ApiError(0, 'cannot address sink ' + JSON.stringify(n));
    return '/api/sinks/' + encodeURIComponent(n);
  }

  // ---- views and routing ------------------------------------------------------------
  function show(view) {
    S.view = view;
    for (const s of document.querySelectorAll('section.view')) s.hidden = s.id !== 'view-' + view;
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }
  function route() {
    S.gen++;
    clearTimers();
    $('error').hidden = true;
    if (!S.csrf) { show('signin'); return; }
    const h = location.hash || '#/events';
    const m = /^#\/event\/(\d{1,15})$/.exec(h);
    if (m) viewEvent(Number(m[1]));
    else if (h === '#/rejected') viewRejected();
    else if (h === '#/sinks') viewSinks();
    else if (h === '#/send') viewSend();
    else viewEvents();
  }
  function showOff(msg) {
    S.csrf = null;
    stopStream();
    $('off-msg').textContent = msg;
    for (const id of ['nav', 'signout', 'live']) $(id).hidden = true;
    show('off');
  }
  function signedIn(csrf) {
    S.csrf = String(csrf || '');
    for (const id of ['nav', 'signout', 'live']) $(id).hidden = false;
    setMsg('signin-msg', '');
    startStream();
    loadRouteNames();
    route();
  }
  function signedOut(msg) {
    S.csrf = null;
    S.gen++;
    clearTimers();
    stopStream();
    for (const id of ['nav', 'signout', 'live']) $(id).hidden = true;
    setMsg('signin-msg', msg || '', !!msg);
    show('signin');
    $('token').focus();
  }
  async function signIn(ev) {
    ev.preventDefault();
    const field = $('token');
    const token = field.value;
    field.value = '';
    setMsg('signin-msg', 'Signing in…');
    try {
      const { data } = await api('POST', '/api/login', { token });
      signedIn(data.csrf);
    } catch (e) {
      if (e.handled) return;
      setMsg('signin-msg', e.status === 401 ? 'Wrong token.' : 'Sign-in failed: ' + e.message, true);
    }
  }
  async function signOut() {
    try { await api('POST', '/api/logout', {}); } catch (e) { /* signed out either way */ }
    signedOut('Signed out.');
  }
  async function loadRouteNames() {
    try {
      const { data } = await api('GET', '/api/routes');
      const list = Array.isArray(data) ? data : data.routes || [];
      $('route-names').replaceChildren(...list.map((r) => el('option', { value: text(r.name) })));
    } catch (e) { /* only a convenience */ }
  }

  // ---- the live tail ----------------------------------------------------------------
  function setLive(on) {
    const l = $('live');
    l.textContent = on ? 'live' : 'live: reconnecting';
    l.classList.toggle('off', !on);
  }
  function startStream() {
    if (S.es || !window.EventSource) return;
    const es = new EventSource('/api/stream');
    S.es = es;
    es.addEventListener('open', () => setLive(true));
    es.addEventListener('error', () => {
      setLive(false);
      if (es.readyState !== EventSource.CLOSED || S.es !== es) return;
      S.es = null; // refused (signed out, or 16 streams open): check the session, then again
      clearTimeout(S.esRetry);
      S.esRetry = setTimeout(async () => {
        if (!S.csrf) return;
        try { await api('GET', '/api/session'); startStream(); } catch (e) { /* api() handled it */ }
      }, 5000);
    });
    es.addEventListener('event', (m) => {
      const d = parse(m.data);
      if (d && S.view === 'events') liveEvent(d);
    });
    es.addEventListener('rejected', (m) => {
      const d = parse(m.data);
      if (d && S.view === 'rejected') liveRejected(d);
    });
  }
  function stopStream() {
    clearTimeout(S.esRetry);
    if (S.es) S.es.close();
    S.es = null;
    $('live').textContent = 'live: off';
    $('live').classList.add('off');
  }
  function parse(s) {
    try {
      const d = JSON.parse(s);
      return d && typeof d === 'object' ? d : null;
    } catch (e) { return null; }
  }

  // ---- events -----------------------------------------------------------------------
  function formValues(form) {
    const out = {};
    for (const [k, v] of new FormData(form)) if (String(v).trim() !== '') out[k] = String(v).trim();
    return out;
  }
  function eventRow(ev, live) {
    const tr = el('tr', { 'data-seq': text(ev.seq), class: live ? 'live' : null });
    const sinks = el('td', { class: 'sinks' });
    fillSinks(sinks, ev.sinks, live);
    tr.append(el('td', {}, seqLink(ev.seq)), td(fmtTime(ev.received), 'time'), td(ev.route), td(ev.id, 'id'),
      td(ev.type), td(fmtSize(ev.size), 'n'), sinks);
    return tr;
  }
  function fillSinks(cell, sinks, live) {
    const items = sinks && typeof sinks === 'object' ? Object.entries(sinks) : [];
    if (!items.length) {
      cell.replaceChildren(live ? el('span', { class: 'state st-new' }, 'new') : '—');
      return;
    }
    cell.replaceChildren(...items.map(([n, s]) => stateBadge(n, s)));
  }
  async function viewEvents() {
    show('events');
    E.filter = formValues($('events-filter'));
    await loadEvents(false);
  }
  async function loadEvents(more) {
    const gen = S.gen;
    const q = new URLSearchParams(E.filter);
    q.set('limit', '50');
    if (more && E.next !== null) q.set('before', String(E.next));
    setMsg('events-msg', 'Loading…');
    try {
      const { data } = await api('GET', '/api/events?' + q);
      if (gen !== S.gen) return;
      const body = $('events').tBodies[0];
      if (!more) { body.replaceChildren(); E.seen.clear(); }
      for (const ev of data.events || []) {
        if (E.seen.has(ev.seq)) continue;
        E.seen.add(ev.seq);
        body.append(eventRow(ev, false));
      }
      E.next = isSeq(data.next_before) ? data.next_before : null;
      $('events-more').hidden = E.next === null;
      const n = body.rows.length;
      setMsg('events-msg', n ? n + ' shown' + (E.next === null ? ', nothing older' : '') :
        E.next === null ? 'No events match.' : 'None in the last ' + text(data.scanned) + ' scanned: press "Older events".');
    } catch (e) {
      if (gen === S.gen) { setMsg('events-msg', ''); showError(e); }
    }
  }
  function timeOf(s) {
    if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
    const t = Date.parse(s);
    return Number.isNaN(t) ? null : t;
  }
  function liveMatches(d) {
    const f = E.filter;
    if (!$('tail').checked || f.state) return false;
    if (f.route && d.route !== f.route) return false;
    if (f.id && d.id !== f.id) return false;
    if (f.type) {
      const t = String(d.type);
      if (f.type.endsWith('*') ? !t.startsWith(f.type.slice(0, -1)) : t !== f.type) return false;
    }
    if (f.until) {
      const u = timeOf(f.until), r = Date.parse(d.received);
      if (u === null || !(r <= u)) return false;
    }
    return true;
  }
  function liveEvent(d) {
    if (!isSeq(d.seq) || E.seen.has(d.seq) || !liveMatches(d)) return;
    E.seen.add(d.seq);
    const body = $('events').tBodies[0];
    for (const r of body.querySelectorAll('tr.newest')) { r.classList.remove('newest'); r.removeAttribute('data-newest'); }
    const tr = eventRow(d, true);
    tr.classList.add('newest');
    tr.setAttribute('data-newest', '');
    // keep seq order: a reconnect's backlog may arrive after a newer event
    let before = body.rows[0];
    while (before && Number(before.dataset.seq) > d.seq) before = before.nextElementSibling;
    body.insertBefore(tr, before || null);
    setMsg('events-msg', body.rows.length + ' shown');
    E.liveTries = 0;
    clearTimeout(E.liveTimer);
    E.liveTimer = setTimeout(refreshLive, 1000);
  }
  async function refreshLive() {
    // the stream carries no sink states: fetch the newest page and update the rows shown
    if (S.view !== 'events') return;
    const q = new URLSearchParams(E.filter);
    q.set('limit', '50');
    try {
      const { data } = await api('GET', '/api/events?' + q);
      let open = false;
      for (const ev of data.events || []) {
        const tr = isSeq(ev.seq) && $('events').querySelector('tbody tr[data-seq="' + ev.seq + '"]');
        if (!tr) continue;
        fillSinks(tr.cells[6], ev.sinks, false);
        tr.cells[5].textContent = fmtSize(ev.size);
        if (Object.values(ev.sinks || {}).some((s) => s === 'pending' || s === 'retrying')) open = true;
      }
      if (open && ++E.liveTries < 5) E.liveTimer = setTimeout(refreshLive, 2000);
    } catch (e) { /* the next live event tries again */ }
  }

  // ---- one event --------------------------------------------------------------------
  async function viewEvent(seq) {
    show('event');
    if (EV.seq !== seq) { EV.replayed.clear(); setMsg('replay-msg', ''); }
    EV.seq = seq;
    $('ev-title').textContent = String(seq);
    for (const id of ['ev-fields', 'ev-envelope']) $(id).replaceChildren();
    for (const id of ['ev-sinks', 'ev-headers']) $(id).tBodies[0].replaceChildren();
    $('ev-truncated').hidden = true;
    $('ev-noheaders').hidden = true;
    const ev = await loadEvent(seq);
    if (!ev) return;
    const dl = $('ev-fields');
    for (const [k, label] of [['seq', 'seq'], ['id', 'id'], ['type', 'type'], ['route', 'route'],
      ['source', 'source'], ['received', 'received'], ['time', 'time'], ['content_type', 'content type'],
      ['size', 'size']]) {
      const v = k === 'size' && typeof ev.size === 'number' ? ev.size + ' bytes' : ev[k];
      dl.append(el('dt', {}, label), el('dd', { 'data-field': k }, text(v)));
    }
    if (ev.truncated) {
      $('ev-raw').setAttribute('href', '/api/events/' + encodeURIComponent(seq) + '/raw');
      $('ev-truncated').hidden = false;
    }
    $('ev-envelope').textContent = JSON.stringify(ev.envelope === undefined ? null : ev.envelope, null, 2);
    const headers = Array.isArray(ev.headers) ? ev.headers : [];
    $('ev-headers').tBodies[0].replaceChildren(...headers.map((h) =>
      el('tr', {}, td(Array.isArray(h) ? h[0] : h, 'name'), td(Array.isArray(h) ? h[1] : '', 'value'))));
    $('ev-noheaders').hidden = headers.length > 0;
    renderEventSinks(ev);
  }
  async function loadEvent(seq) {
    const gen = S.gen;
    try {
      const { data } = await api('GET', '/api/events/' + encodeURIComponent(seq));
      return gen === S.gen ? data : null;
    } catch (e) {
      if (gen !== S.gen) return null;
      if (e.status === 404) setMsg('replay-msg', 'There is no event with seq ' + seq + '.', true);
      else showError(e);
      return null;
    }
  }
  function renderEventSinks(ev) {
    const rows = (Array.isArray(ev.sinks) ? ev.sinks : []).map((s) => {
      const name = String(s.name);
      const when = EV.replayed.get(name);
      const tr = el('tr', { 'data-sink': name, 'data-state': text(s.state), class: when ? 'replayed' : null });
      const btn = el('button', { type: 'button', class: 'replay', 'data-sink': name }, 'Replay');
      tr.append(td(name, 'name'), el('td', {}, stateBadge(null, s.state)), td(s.attempts, 'n attempts'),
        td(s.last_error, 'err'), td(fmtTime(s.next_attempt || s.dead_at || null), 'time'), el('td', {}, btn),
        td(when ? 'replayed ' + clock(when) : '', 'note'));
      return tr;
    });
    $('ev-sinks').tBodies[0].replaceChildren(...rows);
    $('replay-all').disabled = rows.length === 0;
  }
  function confirmDialog(question, okLabel) {
    const d = $('confirm');
    $('confirm-text').textContent = question;
    $('confirm-ok').textContent = okLabel || 'Replay';
    return new Promise((resolve) => {
      const done = (v) => {
        $('confirm-ok').removeEventListener('click', ok);
        $('confirm-cancel').removeEventListener('click', no);
        d.removeEventListener('cancel', no);
        if (d.open) d.close();
        resolve(v);
      };
      const ok = () => done(true);
      const no = () => done(false);
      $('confirm-ok').addEventListener('click', ok);
      $('confirm-cancel').addEventListener('click', no);
      d.addEventListener('cancel', no);
      d.showModal();
      $('confirm-cancel').focus();
    });
  }
  async function sinkCounters() {
    const { data } = await api('GET', '/api/sinks');
    const out = {};
    for (const s of data.sinks || []) out[String(s.name)] = s.delivered;
    return out;
  }
  async function replayEvent(sink) {
    const seq = EV.seq;
    const all = sink === '*';
    const to = all ? 'every sink of its route' : 'sink ' + sink;
    if (!await confirmDialog('Deliver event ' + seq + ' again to ' + to + '?')) return;
    const gen = S.gen;
    try {
      EV.before = await sinkCounters().catch(() => ({}));
      const { data } = await api('POST', '/api/events/' + encodeURIComponent(seq) + '/replay', all ? {} : { sink });
      const names = Array.isArray(data.replayed) ? data.replayed.map(String) : [];
      const now = new Date();
      for (const n of names) EV.replayed.set(n, now);
      setMsg('replay-msg', 'Replay queued at ' + clock(now) + ': ' + (names.join(', ') || 'no sink') + '.');
      for (const tr of $('ev-sinks').tBodies[0].rows) {
        if (!EV.replayed.has(tr.dataset.sink)) continue;
        tr.classList.add('replayed');
        tr.cells[6].textContent = 'replayed ' + clock(now);
      }
      if (gen === S.gen) pollReplay(seq, names, 10);
    } catch (e) {
      if (!e.handled) setMsg('replay-msg', 'Replay refused: ' + e.message, true);
    }
  }
  function pollReplay(seq, names, left) {
    later(async () => {
      const gen = S.gen;
      const ev = await loadEvent(seq);
      if (!ev || gen !== S.gen) return;
      renderEventSinks(ev);
      const now = await sinkCounters().catch(() => ({}));
      if (gen !== S.gen) return;
      const states = new Map((ev.sinks || []).map((s) => [String(s.name), s.state]));
      const parts = names.map((n) => {
        const again = typeof now[n] === 'number' && typeof EV.before[n] === 'number' && now[n] > EV.before[n];
        const st = states.get(n);
        return n + ': ' + text(st) + (st === 'delivered' && again ? ' again' : '');
      });
      const settled = names.every((n) => states.get(n) === 'delivered' || states.get(n) === 'dead');
      const doneAll = parts.every((p) => / (dead|delivered again)$/.test(p));
      setMsg('replay-msg', 'Replay queued: ' + parts.join(', ') + ' (checked ' + clock(new Date()) + ')' +
        (doneAll ? '.' : left > 1 ? '…' : settled ? '.' : ': still waiting; reload to check again.'));
      $('replay-msg').dataset.done = doneAll ? 'yes' : 'no';
      if (!doneAll && left > 1) pollReplay(seq, names, left - 1);
    }, 1000);
  }

  // ---- rejected requests ------------------------------------------------------------
  async function viewRejected() {
    show('rejected');
    R.filter = formValues($('rejected-filter'));
    await loadRejected(false);
  }
  function rejectedRows(r) {
    const id = text(r.id);
    const headers = Array.isArray(r.headers) ? r.headers : [];
    const hasBody = typeof r.body === 'string' || typeof r.body_base64 === 'string';
    const tr = el('tr', { 'data-id': id, 'data-status': text(r.status), class: 'rej' });
    const cell = el('td');
    tr.append(td(fmtTime(r.time), 'time'), td(r.route), td(r.client), td(r.status, 'n'), td(r.reason, 'reason'), cell);
    if (!headers.length && !hasBody) return [tr];
    const detail = el('tr', { class: 'detail', 'data-for': id, hidden: true });
    const box = el('td', { colspan: 6 });
    detail.append(box);
    if (headers.length) {
      box.append(el('h3', {}, 'Headers (secret values shown as ***)'), el('table', { class: 'list kv' },
        el('tbody', {}, ...headers.map((h) => el('tr', {}, td(Array.isArray(h) ? h[0] : h, 'name'),
          td(Array.isArray(h) ? h[1] : '', 'value'))))));
    }
    const what = text(r.content_type) + ', ' + fmtSize(r.size);
    if (typeof r.body === 'string') box.append(el('h3', {}, 'Body (' + what + ')'), el('pre', { class: 'body' }, r.body));
    else if (typeof r.body_base64 === 'string') {
      box.append(el('h3', {}, 'Body, not UTF-8, in base64 (' + what + ')'), el('pre', { class: 'body' }, r.body_base64));
    }
    const btn = el('button', { type: 'button', class: 'expand', 'aria-expanded': 'false' }, 'Details');
    btn.addEventListener('click', () => {
      detail.hidden = !detail.hidden;
      btn.setAttribute('aria-expanded', String(!detail.hidden));
      btn.textContent = detail.hidden ? 'Details' : 'Hide';
    });
    cell.append(btn);
    return [tr, detail];
  }
  async function loadRejected(more, fresh) {
    const gen = S.gen;
    const q = new URLSearchParams(R.filter);
    q.set('limit', '50');
    if (more && R.next !== null) q.set('before', String(R.next));
    if (!fresh) setMsg('rejected-msg', 'Loading…');
    try {
      const { data } = await api('GET', '/api/rejected?' + q);
      if (gen !== S.gen) return;
      const body = $('rejected').tBodies[0];
      if (!more && !fresh) { body.replaceChildren(); R.seen.clear(); }
      const add = [];
      for (const r of data.rejected || []) {
        if (R.seen.has(r.id)) continue;
        R.seen.add(r.id);
        add.push(...rejectedRows(r));
      }
      if (fresh) {
        for (const tr of add) if (tr.classList.contains('rej')) tr.classList.add('live');
        body.prepend(...add);
      } else {
        body.append(...add);
        R.next = data.next_before === null || data.next_before === undefined ? null : data.next_before;
        $('rejected-more').hidden = R.next === null;
      }
      const n = body.querySelectorAll('tr.rej').length;
      setMsg('rejected-msg', n ? n + ' shown' : 'No rejected requests match.');
    } catch (e) {
      if (gen === S.gen) { setMsg('rejected-msg', ''); showError(e); }
    }
  }
  function liveRejected(d) {
    const f = R.filter;
    if ((f.route && d.route !== f.route) || (f.status && String(d.status) !== f.status) || R.seen.has(d.id)) return;
    clearTimeout(R.liveTimer);
    R.liveTimer = setTimeout(() => { if (S.view === 'rejected') loadRejected(false, true); }, 300);
  }

  // ---- sinks, routes, dead letters and charts ---------------------------------------
  async function viewSinks() {
    show('sinks');
    if (D.sink) loadDead(D.sink);
    await Promise.all([loadSinks(), loadHistory()]);
    later(() => { loadSinks(); loadHistory(); }, 10000, true);
  }
  async function loadSinks() {
    const gen = S.gen;
    try {
      const { data } = await api('GET', '/api/sinks');
      if (gen !== S.gen) return;
      $('sinks').tBodies[0].replaceChildren(...(data.sinks || []).map((s) => {
        const name = String(s.name);
        const rt = s.retrying && typeof s.retrying === 'object' ? s.retrying : null;
        const retry = rt ? el('span', {}, seqLink(rt.seq, 'seq ' + rt.seq), ' · attempt ' + text(rt.attempts) + ' · ' +
          text(rt.last_error) + ' · next ' + fmtTime(rt.next_attempt)) : '—';
        const btn = el('button', { type: 'button', class: 'dead-open', 'data-sink': name }, 'Dead letters');
        return el('tr', { 'data-sink': name, class: s.dead ? 'has-dead' : null }, td(name, 'name'), td(s.type),
          td(s.backlog, 'n'), td(typeof s.oldest_s === 'number' ? s.oldest_s.toFixed(1) + ' s' : s.oldest_s, 'n'),
          td(fmtNum(s.rate, 2), 'n'), td(s.delivered, 'n'), td(s.failed, 'n'), td(s.retries, 'n'),
          td(s.dead_more ? s.dead + '+' : s.dead, 'n dead'), el('td', { class: 'retrying' }, retry), el('td', {}, btn));
      }));
      $('routes').tBodies[0].replaceChildren(...(data.routes || []).map((r) => el('tr', { 'data-route': text(r.name) },
        td(r.name, 'name'), td(r.path), td(r.profile), td(Array.isArray(r.sinks) ? r.sinks.join(', ') : r.sinks),
        td(r.accepted, 'n'), td(r.duplicate, 'n'), td(r.rejected, 'n'), td(fmtNum(r.rate, 2), 'n'),
        td(fmtNum(r.duplicate_rate, 2), 'n'), td(fmtNum(r.rejected_rate, 2), 'n'))));
      setMsg('sinks-msg', 'Updated ' + clock(new Date()) + '; every 10 s.');
    } catch (e) {
      if (gen === S.gen) showError(e);
    }
  }
  async function loadDead(name, keepMsg) {
    D.sink = name;
    const gen = S.gen;
    $('dead').hidden = false;
    $('dead-sink').textContent = name;
    $('dead-all').checked = false;
    try {
      const { data } = await api('GET', sinkPath(name) + '/dead?limit=200');
      if (gen !== S.gen || D.sink !== name) return;
      const list = data.dead || [];
      $('dead-list').tBodies[0].replaceChildren(...list.map((d) => {
        const box = el('input', { type: 'checkbox', class: 'pick', 'data-seq': text(d.seq),
          'aria-label': 'select ' + text(d.seq) });
        return el('tr', { 'data-seq': text(d.seq) }, el('td', {}, box), el('td', {}, seqLink(d.seq)),
          td(d.attempts, 'n'), td(fmtTime(d.time), 'time'), td(d.error, 'err'));
      }));
      $('dead-replay-selected').disabled = $('dead-replay-all').disabled = list.length === 0;
      const count = list.length ? list.length + ' dead letters' : 'No dead letters.';
      setMsg('dead-msg', keepMsg ? $('dead-msg').textContent + ' Now: ' + count : count);
    } catch (e) {
      if (gen === S.gen) setMsg('dead-msg', e.message, true);
    }
  }
  async function replayDead(all) {
    const name = D.sink;
    const seqs = [...$('dead-list').querySelectorAll('input.pick:checked')].map((b) => Number(b.dataset.seq)).filter(isSeq);
    if (!all && !seqs.length) { setMsg('dead-msg', 'Select the dead letters to replay first.', true); return; }
    const what = all ? 'every dead letter of sink ' + name : seqs.length + ' dead letter(s) of sink ' + name;
    if (!await confirmDialog('Deliver ' + what + ' again?')) return;
    try {
      const { data } = await api('POST', sinkPath(name) + '/replay', all ? { dead: true } : { seqs });
      const n = typeof data.replayed === 'number' ? data.replayed + ' of ' + seqs.length + ' ' : '';
      setMsg('dead-msg', 'Replay queued at ' + clock(new Date()) + ': ' + n + what + '.');
      later(() => { loadDead(name, true); loadSinks(); }, 2000);
    } catch (e) {
      if (!e.handled) setMsg('dead-msg', 'Replay refused: ' + e.message, true);
    }
  }
  async function loadHistory() {
    const gen = S.gen;
    try {
      const { data } = await api('GET', '/api/history');
      if (gen !== S.gen) return;
      const series = (o) => Object.entries(o && typeof o === 'object' ? o : {}).map(([name, values]) => ({ name, values }));
      const step = typeof data.step_s === 'number' && data.step_s > 0 ? data.step_s : 10;
      chart($('chart-routes'), series(data.routes), step, 2);
      chart($('chart-commit'), [{ name: 'p99 ms', values: data.commit_p99_ms }], step, 2);
      chart($('chart-backlog'), series(data.backlog), step, 0);
    } catch (e) {
      if (gen === S.gen) showError(e);
    }
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, txt) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (txt !== undefined) e.textContent = txt;
    return e;
  }
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }
  function chart(fig, list, step, digits) {
    const W = 640, H = 180, L = 48, Rm = 10, T = 10, B = 22;
    const cap = fig.querySelector('figcaption');
    list = list.map((s) => ({ name: String(s.name), values: Array.isArray(s.values) ? s.values : [] }));
    const n = Math.max(0, ...list.map((s) => s.values.length));
    let max = 0;
    for (const s of list) for (const v of s.values) if (typeof v === 'number' && Number.isFinite(v) && v > max) max = v;
    max = niceMax(max);
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'plot', role: 'img', 'aria-label': cap.textContent });
    const x = (i) => L + (n > 1 ? (i * (W - L - Rm)) / (n - 1) : 0);
    const y = (v) => T + (H - T - B) * (1 - Math.min(v, max) / max);
    for (const f of [0, 0.5, 1]) {
      const yy = y(max * f).toFixed(1);
      root.append(svg('line', { x1: L, x2: W - Rm, y1: yy, y2: yy, class: 'grid' }),
        svg('text', { x: L - 6, y: Number(yy) + 4, 'text-anchor': 'end', class: 'axis' },
          fmtNum(max * f, max * f === 0 ? 0 : max * f < 1 ? 2 : max * f < 10 ? 1 : 0)));
    }
    const span = Math.round(((n - 1) * step) / 60);
    const ticks = [[0, '-' + span + ' min', 'start'], [(n - 1) / 2, '-' + span / 2 + ' min', 'middle'], [n - 1, 'now', 'end']];
    for (const [i, lbl, anchor] of ticks) {
      if (n > 1) root.append(svg('text', { x: x(i), y: H - 6, 'text-anchor': anchor, class: 'axis' }, lbl));
    }
    const legend = el('ul', { class: 'legend' });
    list.forEach((s, k) => {
      const c = 'c' + (k % 8);
      let seg = [];
      const flush = () => {
        if (seg.length > 1) root.append(svg('polyline', { points: seg.join(' '), class: 'line ' + c }));
        else if (seg.length === 1) {
          const [px, py] = seg[0].split(',');
          root.append(svg('circle', { cx: px, cy: py, r: 2, class: 'dot ' + c }));
        }
        seg = [];
      };
      s.values.forEach((v, i) => {
        if (typeof v === 'number' && Number.isFinite(v)) seg.push(x(i).toFixed(1) + ',' + y(v).toFixed(1));
        else flush(); // null: the process was not running
      });
      flush();
      let last = null;
      for (let i = s.values.length - 1; i >= 0 && last === null; i--) {
        if (typeof s.values[i] === 'number') last = s.values[i];
      }
      const sw = svg('svg', { width: 12, height: 12, class: 'swatch' });
      sw.append(svg('rect', { width: 12, height: 12, class: 'sw ' + c }));
      legend.append(el('li', { 'data-series': s.name }, sw, ' ' + s.name + ' (now ' + fmtNum(last, digits) + ')'));
    });
    const kids = [cap, root, legend];
    if (!list.length || n === 0) kids.push(el('p', { class: 'msg' }, 'No data yet.'));
    fig.replaceChildren(...kids);
  }

  // ---- sending a test event ---------------------------------------------------------
  async function viewSend() {
    show('send');
    const gen = S.gen;
    try {
      const { data } = await api('GET', '/api/routes');
      if (gen !== S.gen) return;
      const list = Array.isArray(data) ? data : data.routes || [];
      const sel = $('send-route');
      const keep = sel.value;
      sel.replaceChildren(...list.map((r) => el('option', {
        value: text(r.name), disabled: !r.can_send_test, 'data-test-type': text(r.test_type),
      }, text(r.name) + ' — ' + text(r.path) + ' (' + text(r.profile) + ')' +
        (r.can_send_test ? '' : ': ' + (typeof r.why_not === 'string' ? r.why_not : 'cannot sign a test event')))));
      const usable = list.filter((r) => r.can_send_test).map((r) => String(r.name));
      sel.value = usable.includes(keep) ? keep : usable[0] || '';
      $('send-btn').disabled = usable.length === 0;
      typeHint();
    } catch (e) {
      if (gen === S.gen) showError(e);
    }
  }
  function typeHint() {
    const o = $('send-route').selectedOptions[0];
    const t = o ? o.dataset.testType : '';
    $('send-type').setAttribute('placeholder', t && t !== '—' ? t : 'the profile\'s test type');
  }
  async function sendTest(ev) {
    ev.preventDefault();
    const body = { route: $('send-route').value };
    const type = $('send-type').value.trim();
    if (type) body.type = type;
    const status = $('send-status'), link = $('send-link');
    $('send-result').hidden = false;
    status.textContent = 'sending…';
    status.removeAttribute('data-status');
    link.hidden = true;
    $('send-answer').textContent = '';
    $('send-btn').disabled = true;
    try {
      const { data } = await api('POST', '/api/send-test', body);
      status.textContent = 'HTTP ' + text(data.status);
      status.setAttribute('data-status', text(data.status));
      $('send-answer').textContent = JSON.stringify(data.answer === undefined ? null : data.answer, null, 2);
      const seq = data.answer && data.answer.seq;
      if (isSeq(seq)) {
        link.setAttribute('href', '#/event/' + encodeURIComponent(seq));
        link.setAttribute('data-seq', String(seq));
        link.textContent = 'open event ' + seq;
        link.hidden = false;
      }
    } catch (e) {
      status.textContent = e.handled ? '' : 'refused: ' + e.message;
      status.setAttribute('data-status', String(e.status));
    } finally {
      $('send-btn').disabled = false;
    }
  }

  // ---- wiring -----------------------------------------------------------------------
  function wire() {
    $('signin-form').addEventListener('submit', signIn);
    $('signout').addEventListener('click', signOut);
    window.addEventListener('hashchange', route);
    $('events-filter').addEventListener('submit', (e) => { e.preventDefault(); route(); });
    $('events-filter').addEventListener('reset', () => setTimeout(route, 0));
    $('events-more').addEventListener('click', () => loadEvents(true));
    $('rejected-filter').addEventListener('submit', (e) => { e.preventDefault(); route(); });
    $('rejected-filter').addEventListener('reset', () => setTimeout(route, 0));
    $('rejected-more').addEventListener('click', () => loadRejected(true));
    $('ev-sinks').addEventListener('click', (e) => {
      const b = e.target.closest('button.replay');
      if (b) replayEvent(b.dataset.sink);
    });
    $('replay-all').addEventListener('click', () => replayEvent('*'));
    $('sinks').addEventListener('click', (e) => {
      const b = e.target.closest('button.dead-open');
      if (b) loadDead(b.dataset.sink);
    });
    $('dead-all').addEventListener('change', () => {
      for (const b of $('dead-list').querySelectorAll('input.pick')) b.checked = $('dead-all').checked;
    });
    $('dead-replay-selected').addEventListener('click', () => replayDead(false));
    $('dead-replay-all').addEventListener('click', () => replayDead(true));
    $('dead-close').addEventListener('click', () => { D.sink = null; $('dead').hidden = true; });
    $('send-form').addEventListener('submit', sendTest);
    $('send-route').addEventListener('change', typeHint);
  }
  async function boot() {
    wire();
    try {
      const { data } = await api('GET', '/api/session');
      signedIn(data.csrf);
    } catch (e) {
      if (e.handled) return;
      show('signin');
      showError(e);
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
