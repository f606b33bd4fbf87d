// The bench's floor: the console's inbox (virtualised list, paged with page_token) and thread
// (newest page, older pages prepended, live messages over EventSource with ?token=) written
// as directly as the browser allows. Not a product: no filters, no composer, no retries.
'use strict';

(() => {
  const KEY = sessionStorage.getItem('voicebip.key') || 'pk_test_demo_voicebip';
  const BASE = (sessionStorage.getItem('voicebip.base') || `${location.origin}/v1`).replace(/\/$/, '');
  // The console's numbers, so both do the same work: row height, overscan, prefetch, page sizes,
  // lines of the thread in the DOM.
  const ROW = 72;
  const OVERSCAN = 6;
  const PREFETCH_ROWS = 10;
  const LIST_PAGE = 50;
  const MESSAGE_PAGE = 50;
  const THREAD_WINDOW = 150;

  const $ = (sel) => document.querySelector(sel);
  const scroller = $('.conversation-scroller');
  const ul = $('#conversation-list');
  const footer = $('.list-footer');
  const article = $('#thread');
  const messageScroller = $('.message-scroller');
  const ol = $('#messages');
  const older = $('.older');
  const status = $('#connection-status');

  async function api(path) {
    const response = await fetch(BASE + path, { headers: { Authorization: `Bearer ${KEY}` } });
    if (!response.ok) throw new Error(`${response.status} on ${path}`);
    return response.json();
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function relative(iso) {
    const minutes = Math.floor((Date.now() - Date.parse(iso)) / 60000);
    if (minutes < 1) return 'just now';
    if (minutes < 60) return `${minutes} min ago`;
    if (minutes < 1440) return `${Math.floor(minutes / 60)} h ago`;
    if (minutes < 43200) return `${Math.floor(minutes / 1440)} d ago`;
    return iso.slice(0, 10);
  }

  function windowBadge(c) {
    if (c.channel !== 'whatsapp') return null;
    const left = c.window_expires_at ? Date.parse(c.window_expires_at) - Date.now() : 0;
    if (left <= 0) return el('span', 'badge window-state window-expired', 'Window closed');
    const minutes = Math.floor(left / 60000);
    return el('span', 'badge window-state window-open',
      `Window closes in ${Math.floor(minutes / 60)} h ${minutes % 60} min`);
  }

  // ---- The list: every loaded item in an array, only the visible rows in the DOM.
  const list = { items: [], token: undefined, loading: false, rows: new Map(), selected: null };

  function row(c, index) {
    const li = el('li', 'conversation-row');
    li.dataset.conversationId = c.conversation_id;
    li.dataset.index = index;
    li.style.top = `${index * ROW}px`;
    if (c.conversation_id === list.selected) li.classList.add('selected');
    const a = el('a');
    a.href = `?c=${encodeURIComponent(c.conversation_id)}`;
    const main = el('span', 'row-main');
    main.append(el('span', 'remote-number', c.from_number),
      el('span', `badge channel-badge channel-${c.channel}`, c.channel === 'sms' ? 'SMS' : 'WhatsApp'));
    const meta = el('span', 'row-meta');
    const time = el('time', 'last-message-time', relative(c.last_message_at));
    time.dateTime = c.last_message_at;
    meta.append(time);
    const badge = windowBadge(c);
    if (badge) meta.append(badge);
    a.append(main, meta);
    li.append(a);
    return li;
  }

  function renderRows() {
    const top = scroller.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const end = Math.min(list.items.length, Math.ceil((top + scroller.clientHeight) / ROW) + OVERSCAN);
    for (const [i, li] of list.rows) {
      if (i < first || i >= end) {
        li.remove();
        list.rows.delete(i);
      }
    }
    for (let i = first; i < end; i++) {
      if (!list.rows.has(i)) {
        const li = row(list.items[i], i);
        ul.append(li);
        list.rows.set(i, li);
      }
    }
    if (list.token !== null && !list.loading && end + PREFETCH_ROWS >= list.items.length) loadMore();
  }

  function renderFooter() {
    footer.textContent = '';
    if (list.loading) {
      footer.append(el('p', null, 'Loading conversations…'));
    } else if (list.token !== null) {
      const button = el('button', null, 'Load more');
      button.type = 'button';
      button.id = 'load-more';
      button.addEventListener('click', loadMore);
      footer.append(button);
    } else {
      footer.append(el('p', 'end', "That's all of them."));
    }
  }

  async function loadMore() {
    if (list.loading || list.token === null) return;
    list.loading = true;
    renderFooter();
    const token = list.token ? `&page_token=${encodeURIComponent(list.token)}` : '';
    try {
      const page = await api(`/conversations?page_size=${LIST_PAGE}${token}`);
      for (const c of page.conversations) list.items.push(c);
      list.token = page.next_page_token || null;
    } catch (e) {
      console.error(e);
    }
    list.loading = false;
    ul.style.height = `${list.items.length * ROW}px`;
    renderFooter();
    renderRows();
  }

  scroller.addEventListener('scroll', renderRows, { passive: true });

  // ---- The thread: one page of messages, older pages on demand, live messages appended.
  const thread = { id: null, known: new Map(), older: null, loadingOlder: false, source: null };

  function messageItem(m) {
    const direction = m.direction === 'outbound' ? 'outbound' : 'inbound';
    const li = el('li', `message ${direction} status-${m.status}`);
    li.dataset.messageId = m.message_id;
    li.dataset.direction = direction;
    li.dataset.status = m.status;
    li.append(el('span', 'visually-hidden', direction === 'inbound' ? 'Customer: ' : 'Agent: '),
      el('p', 'message-body', m.body ?? m.text ?? ''));
    const meta = el('p', 'message-meta');
    const time = el('time', null, new Date(m.created_at).toLocaleString('en-GB',
      { day: '2-digit', month: 'short', hour: '2-digit', minute: '2-digit' }));
    time.dateTime = m.created_at;
    meta.append(time);
    if (direction === 'outbound') meta.append(el('span', 'message-status', m.status));
    li.append(meta);
    thread.known.set(m.message_id, li);
    return li;
  }

  function renderOlder() {
    older.textContent = '';
    if (thread.loadingOlder) {
      older.append(el('p', null, 'Loading older messages…'));
    } else if (thread.older) {
      const button = el('button', null, 'Load older messages');
      button.type = 'button';
      button.id = 'load-older';
      button.addEventListener('click', loadOlder);
      older.append(button);
    } else {
      older.append(el('p', 'start', 'Start of the conversation'));
    }
  }

  function atBottom() {
    return messageScroller.scrollHeight - messageScroller.clientHeight - messageScroller.scrollTop < 48;
  }

  // Messages newest first (as the API pages them) → appended oldest first, skipping known ones.
  // One read of the scroll position before the writes, one write after: no forced layouts.
  function appendNewest(messages) {
    const stick = atBottom();
    const fragment = document.createDocumentFragment();
    for (let i = messages.length - 1; i >= 0; i--) {
      if (!thread.known.has(messages[i].message_id)) fragment.append(messageItem(messages[i]));
    }
    ol.append(fragment);
    if (stick) {
      // Following the live end, the console keeps only its newest lines in the DOM: so does this.
      for (let n = ol.children.length - THREAD_WINDOW; n > 0; n--) ol.firstElementChild.remove();
      messageScroller.scrollTop = messageScroller.scrollHeight;
    }
  }

  // Live messages are queued and written once per animation frame: at 200 events/s, laying out
  // the thread once per event (and reading its height back) would fall behind.
  let live = [];
  function enqueueLive(message) {
    if (live.length === 0) {
      requestAnimationFrame(() => {
        const batch = live;
        live = [];
        appendNewest(batch.reverse());
      });
    }
    live.push(message);
  }

  async function openThread(id) {
    if (thread.source) thread.source.close();
    Object.assign(thread, { id, known: new Map(), older: null, loadingOlder: false, source: null });
    list.selected = id;
    for (const li of list.rows.values()) li.classList.toggle('selected', li.dataset.conversationId === id);
    ol.textContent = '';
    const c = await api(`/conversations/${encodeURIComponent(id)}?page_size=${MESSAGE_PAGE}`);
    if (thread.id !== id) return;
    $('.no-thread').hidden = true;
    article.hidden = false;
    article.dataset.conversationId = id;
    article.querySelector('h2').textContent = c.from_number;
    article.querySelector('.channel-badge').textContent = c.channel === 'sms' ? 'SMS' : 'WhatsApp';
    article.querySelector('.ai-mode-badge').textContent = `Answered by: ${c.ai_mode}`;
    thread.older = c.next_page_token || null;
    renderOlder();
    messageScroller.scrollTop = messageScroller.scrollHeight;
    appendNewest(c.messages);
    messageScroller.scrollTop = messageScroller.scrollHeight;
    follow(id);
  }

  async function loadOlder() {
    if (!thread.older || thread.loadingOlder) return;
    const id = thread.id;
    thread.loadingOlder = true;
    renderOlder();
    const page = await api(`/conversations/${encodeURIComponent(id)}?page_size=${MESSAGE_PAGE}`
      + `&page_token=${encodeURIComponent(thread.older)}`);
    if (thread.id !== id) return;
    const fromBottom = messageScroller.scrollHeight - messageScroller.scrollTop;
    const fragment = document.createDocumentFragment();
    for (let i = page.messages.length - 1; i >= 0; i--) {
      if (!thread.known.has(page.messages[i].message_id)) fragment.append(messageItem(page.messages[i]));
    }
    ol.prepend(fragment);
    thread.older = page.next_page_token || null;
    thread.loadingOlder = false;
    renderOlder();
    // Keep the reader's place: the page grew above them.
    messageScroller.scrollTop = messageScroller.scrollHeight - fromBottom;
  }

  messageScroller.addEventListener('scroll', () => {
    if (messageScroller.scrollTop < 40 && thread.older && !thread.loadingOlder) loadOlder();
  }, { passive: true });

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function follow(id) {
    const url = `${BASE}/conversations/${encodeURIComponent(id)}/stream?token=${encodeURIComponent(KEY)}`;
    const source = new EventSource(url);
    thread.source = source;
    let reopened = false;
    setStatus('connecting', 'Connecting…');
    source.onopen = () => {
      setStatus('live', 'Live');
      // No replay after a reconnect: fetch the newest page and merge it.
      if (reopened) {
        api(`/conversations/${encodeURIComponent(id)}?page_size=${MESSAGE_PAGE}`)
          .then((c) => thread.id === id && appendNewest(c.messages), console.error);
      }
      reopened = true;
    };
    source.onerror = () => setStatus('reconnecting', 'Reconnecting…');
    source.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      const p = frame.payload || {};
      if (frame.event_type === 'message.received') {
        enqueueLive({ direction: 'inbound', status: 'received', created_at: frame.timestamp, ...p });
      } else if (frame.event_type && frame.event_type.startsWith('message.')) {
        const li = thread.known.get(p.message_id);
        if (li) li.dataset.status = frame.event_type.slice('message.'.length);
      }
    };
  }

  // Row links and the bench's links: `?c=<id>` opens a thread in place.
  document.addEventListener('click', (event) => {
    const a = event.target.closest && event.target.closest('a[href]');
    if (!a || a.origin !== location.origin || a.pathname !== location.pathname) return;
    const id = new URL(a.href).searchParams.get('c');
    if (!id) return;
    event.preventDefault();
    history.pushState(null, '', a.href);
    openThread(id);
  });

  renderFooter();
  loadMore();
  const initial = new URLSearchParams(location.search).get('c');
  if (initial) openThread(initial);
})();
