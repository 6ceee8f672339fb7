/* Callcenter chat widget, served by mod_cc_chat at /chat/v1/widget.js.  ES2017, no build.
 *   <script src="https://HOST/chat/v1/widget.js" data-key="PUBLIC_KEY" async></script>
 * The API is the script's origin.  Drawn in a shadow root on a host with `all: initial`.
 * The first message sent creates the session (opening the panel does not); it is kept in
 * sessionStorage, so a reload resumes it: history (deduplicated by id), then the stream,
 * after each connect of which history and state are read again.  The host's data-cc-chat
 * says loading, ready or unavailable (then nothing shows, e.g. origin not allowed). */
(() => {
  'use strict';
  const script = document.currentScript ||
    document.querySelector('script[src*="/chat/v1/widget.js"][data-key]');
  const key = script && script.getAttribute('data-key');
  if (!key || !/^[A-Za-z0-9_-]{1,64}$/.test(key)) return console.warn('cc-chat: bad data-key');
  const loaded = window[Symbol.for('cc-chat')] = window[Symbol.for('cc-chat')] || {};
  if (loaded[key]) return;          // the same widget embedded twice
  loaded[key] = 1;

  const base = new URL(script.src, location.href).origin;
  const STORE = 'cc-chat:' + key;
  let sess = null;                  // {session_id, visitor_token, expires_at}
  let es = null;                    // the EventSource
  let retry = 0, lastId = 0, isOpen = false, busy = false, label = 'chat';
  const seen = new Set();

  const load = (k) => { try { return JSON.parse(sessionStorage.getItem(k)); } catch (e) { } };
  const save = (k, v) => {
    try { v == null ? sessionStorage.removeItem(k) : sessionStorage.setItem(k, JSON.stringify(v)); }
    catch (e) { }
  };

  /* JSON in and out; throws an Error with .status (none: no answer, e.g. CORS refused). */
  async function api(method, path, body) {
    const headers = {};
    if (body) headers['Content-Type'] = 'application/json';
    if (sess && path.startsWith('/chat/v1/sessions/')) {
      headers.Authorization = 'Visitor ' + sess.visitor_token;
    }
    const r = await fetch(base + path, { method, headers, mode: 'cors', credentials: 'omit',
      body: body && JSON.stringify(body) });
    const data = await r.json().catch(() => null);
    if (r.ok) return data;
    throw Object.assign(new Error((data && data.message) || 'HTTP ' + r.status),
      { status: r.status, retryAfter: r.headers.get('Retry-After') });
  }
  const sessPath = (tail) => '/chat/v1/sessions/' + encodeURIComponent(sess.session_id) + tail;

  /* ---- the DOM ---- */
  const host = document.createElement('div');
  host.style.cssText = 'all: initial';
  host.setAttribute('data-cc-chat', 'loading');
  const root = host.attachShadow({ mode: 'open' });
  const svg = (d) => `<svg viewBox="0 0 24 24" aria-hidden="true"><path d="${d}"/></svg>`;
  root.innerHTML = `<style>
*{box-sizing:border-box}
.w{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1f2328}
button{font:inherit;cursor:pointer;border:0}
:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}
textarea:focus-visible{outline:2px solid var(--c);outline-offset:-1px}
svg{display:block;width:26px;height:26px;fill:currentColor}
.launcher,.panel{position:fixed;right:20px;z-index:2147483000;box-shadow:0 6px 24px #0004}
.launcher{bottom:20px;width:56px;height:56px;padding:15px;border-radius:50%}
.unread::after{content:"";position:absolute;top:2px;right:2px;width:12px;height:12px;
 border-radius:50%;background:#d1242f;border:2px solid #fff}
.launcher,.head,.visitor,.send{background:var(--c);color:var(--on)}
.panel{bottom:88px;width:350px;height:480px;max-width:calc(100vw - 40px);
 max-height:calc(100vh - 108px);display:flex;flex-direction:column;overflow:hidden;
 background:#fff;border-radius:12px}
[hidden]{display:none!important}
.head{display:flex;align-items:flex-start;gap:6px;padding:12px 10px 12px 16px}
.head>div{flex:1;min-width:0}
.title{font-weight:600;font-size:16px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.sub{font-size:12px}
.head button{background:none;color:inherit;padding:3px;border-radius:6px}
.head svg{width:18px;height:18px}
.head .end{font-size:12px;padding:2px 8px;border:1px solid currentColor;white-space:nowrap}
.log{flex:1;overflow-y:auto;margin:0;padding:14px;list-style:none;display:flex;
 flex-direction:column;gap:8px;background:#f6f8fa;scrollbar-width:thin}
li{max-width:82%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.greet,.agent{align-self:flex-start;background:#fff;border:1px solid #d0d7de}
.visitor{align-self:flex-end}
.system,.note{align-self:center;padding:2px;color:#59636e;font-size:12px;text-align:center}
.who{display:block;font-size:11px;font-weight:600;color:#59636e}
.err{margin:0;padding:6px 14px;color:#d1242f;font-size:12px}
.sub:empty,.greet:empty,.err:empty{display:none}
form{display:flex;align-items:flex-end;gap:8px;margin:0;padding:10px;border-top:1px solid #d0d7de}
textarea{flex:1;min-width:0;height:42px;max-height:120px;resize:none;font:inherit;color:inherit;
 background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:9px 10px}
.send{height:42px;border-radius:8px;padding:0 16px;font-weight:600}
.send:disabled{opacity:.6}
@media (max-width:480px){.panel{right:0;bottom:0;width:100%;height:100%;max-width:none;
 max-height:none;border-radius:0}}
</style><div class="w" hidden>
<button class="launcher" type="button" aria-expanded="false" aria-controls="p">${
  svg('M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z')
}</button>
<div class="panel" id="p" role="dialog" hidden>
 <div class="head"><div><div class="title"></div><div class="sub" role="status"></div></div>
  <button class="end" type="button" hidden>End chat</button>
  <button class="x" type="button" aria-label="Close chat window">${
  svg('M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z')
}</button></div>
 <ol class="log" aria-live="polite"><li class="greet"></li></ol>
 <p class="err" role="alert"></p>
 <form><textarea rows="1" maxlength="4000" aria-label="Message"
  placeholder="Write a message\u2026"></textarea><button class="send">Send</button></form>
</div></div>`;
  const [wrap, launcher, panel, title, sub, log, greet, errLine, form, input, sendBtn, endBtn] =
    ['.w', '.launcher', '.panel', '.title', '.sub', '.log', '.greet', '.err', 'form',
      'textarea', '.send', '.end'].map((s) => root.querySelector(s));

  function setUnread(on) {
    launcher.classList.toggle('unread', on);
    launcher.setAttribute('aria-label', (isOpen ? 'Close ' : 'Open ') + label +
      (on ? ' (new messages)' : ''));
  }

  function setOpen(open, focus) {
    isOpen = open;
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    setUnread(!open && launcher.classList.contains('unread'));
    save(STORE + ':open', open);
    if (focus) (open ? input : launcher).focus();
    log.scrollTop = log.scrollHeight;
  }

  /* Black or white text on the widget's color, by its perceived brightness. */
  function onColor(hex) {
    const n = parseInt(hex.slice(1), 16);
    return (n >> 16) * 299 + ((n >> 8) & 255) * 587 + (n & 255) * 114 > 150000 ? '#000' : '#fff';
  }

  const describe = (e) => e.status === 429
    ? 'Too many new chats. Please try again in ' + (+e.retryAfter || 60) + ' seconds.'
    : e.status ? 'Something went wrong (' + e.status + '). Please try again.'
      : 'The chat service cannot be reached. Please try again.';

  function item(tag, cls, ...content) {
    const el = document.createElement(tag);
    el.className = cls;
    el.append(...content);
    return el;
  }

  /* A message {id, sender, agent_name?, body}: at most once, in id order. */
  function addMessage(m, live) {
    if (!m || typeof m.id !== 'number' || seen.has(m.id)) return;
    seen.add(m.id);
    lastId = Math.max(lastId, m.id);
    const agent = m.sender === 'agent';
    const li = item('li', agent || m.sender === 'visitor' ? m.sender : 'system',
      ...(agent && m.agent_name ? [item('span', 'who', m.agent_name)] : []), m.body);
    li.dataset.id = m.id;
    log.insertBefore(li, [...log.querySelectorAll('[data-id]')].find((x) => x.dataset.id > m.id)
      || null);
    log.scrollTop = log.scrollHeight;
    if (live && !isOpen && m.sender !== 'visitor') setUnread(true);
  }

  /* The header's second line. */
  function showState(status, position, agent) {
    endBtn.hidden = false;
    sub.textContent = status === 'active' ? 'You are chatting with ' + (agent || 'an agent')
      : position > 0 ? 'Waiting for an agent: you are number ' + position + ' in line'
        : 'Waiting for an agent\u2026';
  }

  /* ---- the session ---- */
  function forget() {
    if (es) es.close();
    es = sess = null;
    endBtn.hidden = true;
    save(STORE, null);
  }

  function ended() {
    if (!sess) return;              // told twice (the answer to End chat, then the stream)
    forget();
    sub.textContent = 'This chat has ended';
    log.append(item('li', 'note', 'This chat has ended. Write again to start a new one.'));
    log.scrollTop = log.scrollHeight;
  }

  /* History after lastId, then state; false when the session is over or its token refused
   * (401 forgets it); other failures throw. */
  async function sync(live) {
    try {
      for (let page = 0; page < 100 && sess; page++) {
        const r = await api('GET', sessPath('/messages?limit=100' +
          (lastId ? '&after=' + lastId : '')));
        const data = (r && r.data) || [];
        data.forEach((m) => addMessage(m, live));
        if (data.length < 100) break;
      }
      const s = sess && await api('GET', sessPath(''));
      if (!s) return false;
      if (s.status === 'closed') return ended(), false;
      showState(s.status, s.position, s.agent && s.agent.name);
      return true;
    } catch (e) {
      if (e.status !== 401 && e.status !== 404) throw e;
      forget();
      return false;
    }
  }

  /* On load with a stored session, and when the stream gave up: history, then stream. */
  async function resume() {
    try {
      if (sess && await sync(false)) connect();
    } catch (e) {
      later();
    }
  }
  const later = () =>
    setTimeout(resume, Math.min(30000, 1000 * 2 ** retry++) * (0.75 + Math.random() / 2));

  function connect() {
    if (es) es.close();
    const src = es = new EventSource(base +
      sessPath('/events?token=' + encodeURIComponent(sess.visitor_token)));
    const on = (type, fn) => src.addEventListener(type, (e) => {
      let d;
      try { d = JSON.parse(e.data) || {}; } catch (x) {
        return console.warn('cc-chat: unreadable ' + type + ' event:', e.data);
      }
      if (src === es) fn(d, (d.agent && d.agent.name) || 'an agent');
    });
    // After each connect, what the stream may have missed.
    src.onopen = () => { retry = 0; sync(true).catch(() => {}); };
    on('message', (d) => addMessage(d, true));
    on('agent_joined', (d, name) => showState('active', 0, name));
    on('transfer', (d, name) => { sub.textContent = 'You are now chatting with ' + name; });
    on('position', (d) => showState('waiting', d.position));
    on('close', ended);
    // CONNECTING: the browser retries (with Last-Event-ID).  CLOSED (e.g. a 401): it gave
    // up; after `close` we do not come here (es is null).
    src.onerror = () => {
      if (src === es && src.readyState === EventSource.CLOSED) { es = null; later(); }
    };
  }

  async function send() {
    const text = input.value;
    if (busy || !text.trim()) return;
    busy = sendBtn.disabled = true;
    input.value = errLine.textContent = input.style.height = '';
    try {
      if (!sess) {
        const s = await api('POST', '/chat/v1/widgets/' + key + '/sessions', {});
        sess = { session_id: s.session_id, visitor_token: s.visitor_token,
          expires_at: s.expires_at };
        save(STORE, sess);
        showState(s.status, s.position);
        connect();
      }
      addMessage(await api('POST', sessPath('/messages'), { body: text }));
    } catch (e) {
      input.value = input.value || text;
      input.oninput();
      if (e.status === 409) ended();
      else errLine.textContent = describe(e);
      if (e.status === 401) forget();
    }
    busy = sendBtn.disabled = false;
  }

  /* The visitor ends the chat (the agent sees it closed by the visitor). */
  endBtn.onclick = async () => {
    if (!sess) return;
    try {
      await api('POST', sessPath('/close'));
    } catch (e) {
      if (e.status !== 409 && e.status !== 401) return void (errLine.textContent = describe(e));
    }
    ended();
    input.focus();
  };

  launcher.onclick = () => setOpen(!isOpen, true);
  root.querySelector('.x').onclick = () => setOpen(false, true);
  form.onsubmit = (e) => { e.preventDefault(); send(); };
  input.oninput = () => {           // grows with its lines, up to its max-height
    input.style.height = '';
    input.style.height = Math.max(42, input.scrollHeight + 2) + 'px';
  };
  input.onkeydown = (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  };
  wrap.onkeydown = (e) => {
    if (e.key === 'Escape' && isOpen) { e.preventDefault(); setOpen(false, true); }
  };

  /* ---- start: the widget's settings, then the stored session if there is one ---- */
  async function init() {
    document.body.append(host);
    let w;
    try {
      w = await api('GET', '/chat/v1/widgets/' + key);
    } catch (e) {
      host.setAttribute('data-cc-chat', 'unavailable');
      return console.warn('cc-chat: the chat is unavailable on this page:', e.message);
    }
    const color = /^#[0-9a-f]{6}$/i.test(w.color) ? w.color : '#1f6feb';
    wrap.style.setProperty('--c', color);
    wrap.style.setProperty('--on', onColor(color));
    label = 'chat' + (w.name ? ': ' + w.name : '');
    title.textContent = w.name || 'Chat';
    panel.setAttribute('aria-label', w.name || 'Chat');
    greet.textContent = w.greeting || '';
    setOpen(load(STORE + ':open') === true, false);
    wrap.hidden = false;
    host.setAttribute('data-cc-chat', 'ready');
    const s = load(STORE);
    if (s && s.session_id && s.visitor_token && !(Date.parse(s.expires_at) <= Date.now())) {
      sess = s;
      resume();
    } else {
      save(STORE, null);
    }
  }

  if (document.body) init();
  else document.addEventListener('DOMContentLoaded', init);
})();
