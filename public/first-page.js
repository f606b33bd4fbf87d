// The inbox's first page, asked for while the wasm is still on its way. Otherwise a signed-in
// operator reopening the inbox waits for the wasm to arrive, compile and start before the
// request even leaves (the cold-load benchmark, README).
//
// Only the plain inbox (`/conversations` or `/conversations/{id}`, no filters in the address)
// is asked for here, with the key and base URL the console stored at sign-in, in the header as
// every request. The console adopts the answer only when it would have asked for exactly this
// URL, and only a 2xx one (src/state/warm_start.rs); otherwise it asks itself, so this script
// can only save time, never change what the operator sees.
(() => {
  'use strict';
  try {
    const signedIn = (area) => {
      const key = area.getItem('voicebip.key');
      return key ? { key: key.trim(), base: area.getItem('voicebip.base') } : null;
    };
    const session = signedIn(sessionStorage) || signedIn(localStorage);
    if (!session || !session.base || location.search) return;
    const root = new URL(document.baseURI).pathname.replace(/\/$/, '');
    if (!location.pathname.startsWith(root)) return;
    if (!/^\/conversations(\/[^/]+)?$/.test(location.pathname.slice(root.length))) return;
    const url = session.base.replace(/\/+$/, '') + '/conversations?page_size=50';
    const response = fetch(url, { headers: { Authorization: 'Bearer ' + session.key } });
    // A failure is the console's to handle (it asks again), not an unhandled rejection.
    response.catch(() => {});
    window.__voicebipFirstPage = { url, response };
  } catch (_) {
    // No storage (blocked or opaque origin): the console asks for itself.
  }
})();
