//! When the API misbehaves: rate limits waited out without the operator, server errors shown
//! with a way to retry, unknown conversations, and answers that are not the JSON promised.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use voicebip_e2e::anyhow::anyhow;
use voicebip_e2e::{poll_until, with_harness, Harness, Options};

/// Makes the page's `fetch` answer `200` with a body that is not JSON for `GET`s of URLs
/// containing `needle` (the simulator's faults only produce well-formed error bodies).
const BREAK_JSON: &str = r#"
const needle = arguments[0];
const real = window.fetch.bind(window);
window.__broken = 0;
window.fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input.url;
  const method = (init && init.method) || (typeof input === 'string' ? 'GET' : input.method);
  if (url.includes(needle) && method === 'GET' && !url.includes('/stream')) {
    window.__broken += 1;
    return Promise.resolve(new Response('{"conversation_id": "conv_', {
      status: 200, headers: { 'Content-Type': 'application/json' } }));
  }
  return real(input, init);
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_server_errors_unknown_ids_and_garbage_answers() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;

        // 429 twice, Retry-After 2: the console says it is waiting, then loads by itself.
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "force_429_retry_after": 2, "count": 2 }),
        )
        .await?;
        clear_requests(h).await?;
        h.open("/conversations").await?;
        let notice = wait_text(h, "#retry-notice", "retrying in", FIRST_SCREEN).await?;
        assert!(
            notice.contains("2 s") || notice.contains("1 s"),
            "the notice says how long (Retry-After 2, counting down): {notice:?}"
        );
        let overflow = h
            .browser()
            .execute(
                "const d = document.documentElement; return d.scrollHeight - d.clientHeight;",
                vec![],
            )
            .await?;
        assert!(
            overflow.as_i64() == Some(0),
            "the notice takes its height from the app's, the page does not scroll: {overflow}"
        );
        h.wait_for_all(ROW, 1, SCREEN).await?;
        wait_gone(h, "#retry-notice", SCREEN).await?;
        assert_eq!(
            count(h, "#error-banner").await?,
            0,
            "a waited-out 429 is not an error"
        );
        let statuses: Vec<u16> = requests(h, "GET", |p| p == "/v1/conversations")
            .await?
            .into_iter()
            .map(|r| r.status)
            .collect();
        assert_eq!(
            statuses.iter().take(3).copied().collect::<Vec<_>>(),
            [429, 429, 200],
            "two refusals, then the retry that worked"
        );

        // A persistent 503 on the list: after its bounded retries, an error with Try again.
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "status": 503 }),
        )
        .await?;
        clear_requests(h).await?;
        h.open("/conversations").await?;
        let banner = wait_text(h, "#error-banner", "", FIRST_SCREEN).await?;
        assert!(
            banner.contains("503"),
            "the banner says what failed: {banner:?}"
        );
        h.wait_for("#error-banner-retry", SCREEN).await?;
        assert_eq!(count(h, ROW).await?, 0);
        let attempts = requests(h, "GET", |p| p == "/v1/conversations")
            .await?
            .len();
        assert!(
            (2..=5).contains(&attempts),
            "a read is retried a bounded number of times, got {attempts}"
        );
        clear_faults(h).await?;
        h.click("#error-banner-retry").await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        wait_gone(h, "#error-banner", SCREEN).await?;
        // The banner went with the focus it had: the focus is on the page's content (no row
        // was there yet to take it), not dropped to the page's start.
        h.wait_focus_on("#main", SCREEN).await?;

        // An unknown conversation: a not-found screen with a working way back.
        clear_requests(h).await?;
        h.open("/conversations/conv_doesnotexist").await?;
        h.wait_for("#not-found", FIRST_SCREEN).await?;
        // Its stream is refused (404) once, not retried every few seconds on the workspace's
        // shared rate limit: one EventSource and the request that asks why.
        settle("a reconnect or two, were there any", Duration::from_secs(6)).await;
        let streams = requests(h, "GET", |p| {
            p == "/v1/conversations/conv_doesnotexist/stream"
        })
        .await?;
        assert!(
            streams.len() <= 2 && streams.iter().all(|r| r.status == 404),
            "the unknown conversation's stream was asked for {} time(s)",
            streams.len()
        );
        h.click("#back-to-inbox").await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        wait_gone(h, "#not-found", SCREEN).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;

        // An answer that is not JSON: that conversation shows an error, the rest keeps working.
        let ids = row_ids(h).await?;
        let (broken, healthy) = match ids.as_slice() {
            [a, b, ..] => (a.clone(), b.clone()),
            _ => return Err(anyhow!("need two conversations in the list, got {ids:?}")),
        };
        h.browser()
            .execute(
                BREAK_JSON,
                vec![json!(format!("/v1/conversations/{broken}"))],
            )
            .await?;
        h.click(&format!("{ROW}[data-conversation-id='{broken}'] a"))
            .await?;
        h.wait_for_path(&format!("/conversations/{broken}"), SCREEN)
            .await?;
        let error = wait_text(h, "#thread-error", "", SCREEN).await?;
        assert!(
            error.to_lowercase().contains("could not read"),
            "a garbled answer is reported as such: {error:?}"
        );
        let broken_calls = h
            .browser()
            .execute("return window.__broken;", vec![])
            .await?;
        assert!(broken_calls.as_u64().unwrap_or(0) >= 1);
        assert_eq!(
            h.path().await?,
            format!("/conversations/{broken}"),
            "still signed in"
        );
        h.click(&format!("{ROW}[data-conversation-id='{healthy}'] a"))
            .await?;
        wait_thread(h, &healthy).await?;
        poll_until("the healthy conversation's messages", SCREEN, || async {
            Ok((count(h, MESSAGE).await? > 0).then_some(()))
        })
        .await?;
        assert!(count(h, ROW).await? > 0, "the list is still there");
        assert_no_crash(h).await
    })
    .await;
}
