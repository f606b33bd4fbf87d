// The bench's instruments, installed into every document before the page's own scripts run
// (CDP Page.addScriptToEvaluateOnNewDocument, by tests/e2e/src/bin/bench_browser.rs), in the
// console and the reference page alike. The driver sets `window.__benchConfig = {key, base}`
// first. Everything is measured on the page's own clocks:
// - "painted" means: the end of the first frame whose DOM holds the thing when its
//   requestAnimationFrame callback runs (a message posted from that callback arrives once the
//   frame has rendered);
// - event-to-paint latency compares Date.now() in that frame with the publish time the driver
//   wrote into the message body (same machine, same wall clock).
'use strict';

(() => {
  if (window.__bench) return;
  const config = window.__benchConfig || {};
  const bench = (window.__bench = { firstRow: null, wasmMemory: null, appStarted: undefined });

  // Signed in before the app starts: the console reads these, as the reference page does.
  try {
    if (config.key) sessionStorage.setItem('voicebip.key', config.key);
    if (config.base) sessionStorage.setItem('voicebip.base', config.base);
  } catch (_) {
    // No storage (opaque origin such as about:blank): nothing to sign in to there.
  }

  // Trunk's loader announces the instance; its memory is the console's wasm heap.
  addEventListener('TrunkApplicationStarted', (event) => {
    const wasm = event.detail && event.detail.wasm;
    bench.wasmMemory = (wasm && wasm.memory) || null;
    // After compiling and instantiating the wasm and running its main (mounting the app).
    bench.appStarted = performance.now();
  });

  // Where the cold load's time went, from Resource Timing (ms after navigation start): the app's
  // code arriving, and the first page of conversations asked for and answered.
  function coldBreakdown() {
    const entries = performance.getEntriesByType('resource');
    const first = (pattern) => entries.find((e) => pattern.test(e.name));
    const wasm = first(/\.wasm(\?|$)/);
    const config = first(/\/config\.json(\?|$)/);
    const list = first(/\/v1\/conversations\?/);
    // 0 until the event has fired (a page could paint its rows before it).
    const navigation = performance.getEntriesByType('navigation')[0];
    const parsed = navigation ? navigation.domContentLoadedEventStart : 0;
    return {
      domParsed: parsed > 0 ? parsed : null,
      wasmLoaded: wasm ? wasm.responseEnd : null,
      appStarted: bench.appStarted === undefined ? null : bench.appStarted,
      configAnswered: config ? config.responseEnd : null,
      listRequested: list ? list.startTime : null,
      listAnswered: list ? list.responseEnd : null,
    };
  }

  // performance.now() once the next frame has rendered: a message posted from the frame's
  // animation callback arrives after its style, layout and paint (the callback itself runs
  // before them, which left the painting of what was timed out of the figure).
  // With `ready`: whether it held in the frame (checked before it rendered, so that what a
  // task between the render and the message adds is not taken as painted).
  const afterPaint = (ready = () => true) =>
    new Promise((resolve) =>
      requestAnimationFrame(() => {
        const frame = performance.now();
        let held = false;
        try {
          held = ready();
        } catch (_) {
          // (Taken as not held: the wait goes on to its end, rather than never settling.)
        }
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
          channel.port1.close();
          resolve({ held, frame, now: performance.now() });
        };
        channel.port2.postMessage(null);
      }),
    );

  // Cold load: performance.now() counts from navigation start.
  const rowWatch = new MutationObserver(() => {
    if (bench.firstRow === null && document.querySelector('li.conversation-row')) {
      rowWatch.disconnect();
      afterPaint().then(({ frame, now }) => {
        bench.firstRow = now;
        // When that frame began (its animation callback), for a test of what waits for it.
        bench.firstRowFrame = frame;
        bench.cold = coldBreakdown();
      });
    }
  });
  rowWatch.observe(document, { childList: true, subtree: true });

  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const count = (selector) => document.querySelectorAll(selector).length;
  const ROWS = 'li.conversation-row';
  const MESSAGES = 'ol#messages > li.message';

  // performance.now() once the first frame where `ready()` holds has rendered; null after
  // `timeoutMs`.
  async function frameWhen(ready, timeoutMs) {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const { held, now } = await afterPaint(ready);
      if (held) return now;
      if (now > end) return null;
    }
  }

  // Conversations loaded: both lists size their <ul> to (loaded rows × 72 px).
  function loaded() {
    const ul = document.getElementById('conversation-list');
    return ul ? Math.round(parseFloat(ul.style.height || '0') / 72) : 0;
  }

  // Scrolls the list to its end every frame until `total` conversations are loaded (infinite
  // scroll does the paging); `#load-more` is clicked only if nothing arrived for 2 s.
  bench.pageIn = async (total, timeoutMs) => {
    const scroller = document.querySelector('.conversation-scroller');
    const start = performance.now();
    let rowsMax = 0;
    let nudges = 0;
    let last = -1;
    let lastGrowth = start;
    for (;;) {
      await frame();
      const now = performance.now();
      const n = loaded();
      rowsMax = Math.max(rowsMax, count(ROWS));
      if (n >= total) {
        return { ms: now - start, loaded: n, rowsMax, rows: count(ROWS), nudges };
      }
      if (now - start > timeoutMs) {
        return { ms: null, loaded: n, rowsMax, rows: count(ROWS), nudges };
      }
      if (n !== last) {
        last = n;
        lastGrowth = now;
      } else if (now - lastGrowth > 2000) {
        const more = document.getElementById('load-more');
        if (more) {
          more.click();
          nudges += 1;
        }
        lastGrowth = now;
      }
      scroller.scrollTop = scroller.scrollHeight;
    }
  };

  // Scrolls the list by `step` px per frame for `frames` frames. Per frame: the interval since
  // the previous frame, and the main thread's work for it: from the frame's start (the rAF
  // timestamp, before scroll events are dispatched) to the first task after the frame's
  // rendering (a MessageChannel message posted during rAF).
  bench.scroll = async (frames, step) => {
    const scroller = document.querySelector('.conversation-scroller');
    scroller.scrollTop = 0;
    await frame();
    await sleep(300);
    await frame();
    const busy = [];
    const intervals = [];
    let rowsMax = 0;
    let previous = null;
    const channel = new MessageChannel();
    channel.port1.onmessage = (event) => busy.push(performance.now() - event.data);
    for (let i = 0; i < frames; i++) {
      const ts = await frame();
      if (previous !== null) intervals.push(ts - previous);
      previous = ts;
      channel.port2.postMessage(ts);
      rowsMax = Math.max(rowsMax, count(ROWS));
      let next = scroller.scrollTop + step;
      if (next > scroller.scrollHeight - scroller.clientHeight) next = 0;
      scroller.scrollTop = next;
    }
    await sleep(100);
    channel.port1.close();
    return { busy, intervals, rowsMax };
  };

  // Opens a conversation by clicking a link to `href` (both apps route link clicks in place)
  // and times it until `min` messages are painted.
  bench.openThread = async (href, min, timeoutMs) => {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = 'bench';
    document.body.append(a);
    const start = performance.now();
    a.click();
    a.remove();
    const at = await frameWhen(() => count(MESSAGES) >= min, timeoutMs);
    return { ms: at === null ? null : at - start, messages: count(MESSAGES) };
  };

  // Clicks `#load-older` and times it until `add` more messages are painted.
  bench.prepend = async (add, timeoutMs) => {
    await frameWhen(() => document.getElementById('load-older'), timeoutMs);
    await sleep(300);
    const button = document.getElementById('load-older');
    if (!button) return { ms: null, before: count(MESSAGES), after: count(MESSAGES) };
    const before = count(MESSAGES);
    const start = performance.now();
    button.click();
    const at = await frameWhen(() => count(MESSAGES) >= before + add, timeoutMs);
    return { ms: at === null ? null : at - start, before, after: count(MESSAGES) };
  };

  bench.wasmBytes = () => (bench.wasmMemory ? bench.wasmMemory.buffer.byteLength : 0);

  // The burst: every message whose body reads `bench-burst #<seq> @<publish unix ms>;` is
  // timed at the end of the first frame that painted it. Call burstArm before publishing,
  // burstCollect after.
  bench.burstArm = () => {
    const scroller = document.querySelector('.message-scroller');
    // At the live end, as an operator watching the conversation would be.
    scroller.scrollTop = scroller.scrollHeight;
    const pattern = /bench-burst #(\d+) @(\d+);/;
    const state = { seen: new Map(), pending: [], running: true };
    const observer = new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (node.nodeType === Node.ELEMENT_NODE) state.pending.push(node);
        }
      }
    });
    observer.observe(document.body, { childList: true, subtree: true });
    // Each frame posts a message that arrives after the frame has rendered: the messages
    // found by then were painted in that frame, whether the page inserted them before the frame
    // or during it (a page that batches its writes into requestAnimationFrame).
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      const now = Date.now();
      for (const node of state.pending) {
        const own = node.closest('li.message');
        const items = own ? [own] : node.querySelectorAll('li.message');
        for (const li of items) {
          const body = li.querySelector('.message-body');
          const match = pattern.exec((body || li).textContent);
          if (match && !state.seen.has(Number(match[1]))) {
            state.seen.set(Number(match[1]), now - Number(match[2]));
          }
        }
      }
      state.pending.length = 0;
    };
    const tick = () => {
      if (!state.running) return;
      channel.port2.postMessage(0);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    state.stop = () => {
      state.running = false;
      observer.disconnect();
      channel.port1.close();
    };
    bench.burst = state;
  };

  // Burst messages in the DOM now, however they got there: tells "never shown" from "missed".
  bench.burstInDom = () => {
    let n = 0;
    for (const body of document.querySelectorAll('li.message .message-body')) {
      if (body.textContent.startsWith('bench-burst #')) n += 1;
    }
    return n;
  };

  bench.burstSeen = () => (bench.burst ? bench.burst.seen.size : 0);

  bench.burstCollect = () => {
    const state = bench.burst;
    state.stop();
    return Array.from(state.seen, ([seq, ms]) => [seq, ms]);
  };
})();
