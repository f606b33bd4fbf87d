//! Reopening the console signed in: the inbox's first page is asked for as the app starts, once,
//! with the filters in the address, and shown in the first frame when it is answered within a
//! brief wait; a slow API does not hold the screen back. A conversation in the address has its
//! newest page asked for at start too.

use crate::common::*;
use serde_json::json;
use std::time::{Duration, Instant};
use voicebip_e2e::anyhow::{anyhow, ensure, Result};
use voicebip_e2e::{poll_until, with_harness, Harness, LoggedRequest, Options};

/// A first-page list request, as opposed to a later page.
fn is_first_page(r: &LoggedRequest) -> bool {
    r.path == "/v1/conversations" && !r.query.as_deref().unwrap_or("").contains("page_token")
}

async fn first_page_requests(h: &Harness) -> Result<Vec<LoggedRequest>> {
    Ok(requests(h, "GET", |_| true)
        .await?
        .into_iter()
        .filter(is_first_page)
        .collect())
}

/// Whether the inbox's shell (its filters) is on screen, and how many rows it shows.
async fn shell_and_rows(h: &Harness) -> Result<(bool, u64)> {
    let v = h
        .browser()
        .execute(
            &format!(
                "return [!!document.querySelector('select#filter-channel'), \
                 document.querySelectorAll('{ROW}').length];"
            ),
            vec![],
        )
        .await?;
    Ok((v[0].as_bool().unwrap_or(false), v[1].as_u64().unwrap_or(0)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopened_inbox_asks_for_its_filtered_first_page_once() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        clear_requests(h).await?;
        // When the inbox's filters were first in the page (ms on the page's clock).
        h.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": "window.__shellAt = null;
                new MutationObserver(() => {
                  if (window.__shellAt === null && document.querySelector('select#filter-channel'))
                    window.__shellAt = performance.now();
                }).observe(document, { childList: true, subtree: true });" }),
        )
        .await?;

        // A fresh page load of a filtered inbox (the key survives in sessionStorage).
        h.open("/conversations?channel=whatsapp").await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        // Asked for as the app started, before the inbox was built (not by it, as it rendered).
        let asked_before = h
            .browser()
            .execute(
                "const asked = performance.getEntriesByType('resource')
                   .find(e => e.name.includes('/v1/conversations?'));
                 return [asked ? asked.startTime : null, window.__shellAt];",
                vec![],
            )
            .await?;
        let (asked_at, shell_at) = (asked_before[0].as_f64(), asked_before[1].as_f64());
        ensure!(
            asked_at.zip(shell_at).is_some_and(|(a, s)| a < s),
            "the first page asked for at {asked_at:?} ms, the inbox built at {shell_at:?} ms"
        );
        let badges = h.texts(&format!("{ROW} .channel-badge")).await?;
        ensure!(!badges.is_empty(), "rows show their channel");
        for badge in &badges {
            ensure!(
                badge.contains("WhatsApp"),
                "the address's filter applies from the first page: {badges:?}"
            );
        }

        // (The simulator logs a request once answered: a second one, made as the rows
        // render, may still be on its way.)
        settle("no second request", Duration::from_millis(500)).await;
        let asked = first_page_requests(h).await?;
        ensure!(
            asked.len() == 1,
            "the first page is asked for once, not again when the inbox renders: {asked:?}"
        );
        let only = &asked[0];
        ensure!(
            only.query
                .as_deref()
                .unwrap_or("")
                .contains("channel=whatsapp"),
            "with the filter from the address: {only:?}"
        );
        ensure!(
            only.has_authorization && !only.query_has_token,
            "the key in the header, never in the URL: {only:?}"
        );
        h.assert_no_axe_violations("the reopened inbox").await?;

        // An address that is not the inbox asks for nothing early; the inbox reached from it
        // asks for its own (fresh) first page, once.
        clear_requests(h).await?;
        h.open("/conversations/a/b").await?;
        h.wait_for("#back-to-inbox", FIRST_SCREEN).await?;
        // (The simulator logs a request once answered: one on its way would be missed.)
        settle("a request on its way", Duration::from_millis(500)).await;
        ensure!(
            first_page_requests(h).await?.is_empty(),
            "no first page is asked for behind a page-not-found"
        );
        h.click("#back-to-inbox").await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        settle("no second request", Duration::from_millis(500)).await;
        let asked = first_page_requests(h).await?;
        ensure!(asked.len() == 1, "the inbox asks once: {asked:?}");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_first_page_does_not_hold_the_screen_back() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        const LATENCY: Duration = Duration::from_secs(10);
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "latency_ms": LATENCY.as_millis() as u64, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;

        // (The simulator's clock, unshifted here, is the system's.)
        let opened_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as i64;
        h.open("/conversations").await?;
        let (rows_when_shown, answered) = poll_until("the inbox's shell", FIRST_SCREEN, || async {
            let (shell, rows) = shell_and_rows(h).await?;
            if !shell {
                return Ok(None);
            }
            // (The simulator logs a request as it answers it.)
            Ok(Some((rows, first_page_requests(h).await?.len())))
        })
        .await?;
        ensure!(
            rows_when_shown == 0 && answered == 0,
            "the shell shows while the slow first page is still out ({rows_when_shown} rows, \
             {answered} answered)"
        );

        // The late answer fills the list; nothing asked twice for it: a second request, made
        // at once, would have been answered first, well before the late one. (The list's
        // poll, 10 s after its start, may come after it.)
        h.wait_for_all(ROW, 1, LATENCY + SCREEN).await?;
        let asked = first_page_requests(h).await?;
        let first = asked
            .first()
            .ok_or_else(|| voicebip_e2e::anyhow::anyhow!("no first page asked for"))?;
        let late = LATENCY.as_millis() as i64;
        ensure!(
            first.at_ms()? - opened_at >= late - 1_000,
            "the inbox waited for the early request instead of asking again: {asked:?}"
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopened_conversation_asks_for_its_newest_page_as_the_app_starts() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let id = newest_conversation_id(h).await?;
        clear_requests(h).await?;
        open_thread(h, &id).await?;
        wait_subscribers(h, &id, 1).await?;
        // The thread takes the answer to the request made at start instead of asking again
        // (that the request leaves at start, before the thread's code is here, is
        // thread_chunk.rs's to show: it blocks that code); the
        // stream's opening asks once more, to fill any gap before it (src/pages/thread.rs). That
        // one leaves once the browser has seen the stream open, after the simulator counted it.
        poll_until("the stream's own request", SCREEN, || async {
            Ok((newest_page_requests(h, &id).await?.len() >= 2).then_some(()))
        })
        .await?;
        settle("no third request follows", Duration::from_millis(500)).await;
        let asked = newest_page_requests(h, &id).await?;
        ensure!(
            asked.len() == 2,
            "asked at start and when the stream opened, not a third time: {asked:?}"
        );
        ensure!(
            asked
                .iter()
                .all(|r| r.has_authorization && !r.query_has_token),
            "the key in the header, never in the URL: {asked:?}"
        );
        Ok(())
    })
    .await
}

/// A conversation reopened from its address while the API holds its answer back (429), and
/// the operator signs out: nothing more is asked with the key signed out of. The request made
/// at start-up gives up with its session, and its failure was asked again at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_asked_for_at_start_is_not_asked_again_after_a_sign_out() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}", "force_429_retry_after": 4 }),
        )
        .await?;
        h.open(&format!("/conversations/{id}")).await?;
        h.wait_for("#retry-notice", SCREEN).await?;
        // Before the sign-out, once the thread's first asks (the early one, the stream's
        // refetch) have been answered: they wait out their 4 s meanwhile. (The notice may
        // show at the first's refusal, before the stream has opened.)
        poll_until("the thread's first asks answered", SCREEN, || async {
            Ok((newest_page_requests(h, &id).await?.len() >= 2).then_some(()))
        })
        .await?;
        settle("their answers taken in", Duration::from_secs(1)).await;
        clear_requests(h).await?;
        h.click("#sign-out").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        // (Past the end of the waits, when a retry would have been asked.)
        settle("a request, were there one", Duration::from_secs(5)).await;
        let path = format!("/v1/conversations/{id}");
        let asked = requests(h, "GET", |p| p == path).await?;
        ensure!(asked.is_empty(), "asked after the sign-out: {asked:?}");
        assert_no_crash(h).await
    })
    .await;
}

/// The conversation asked for at start and held by a 429 is not asked for again once the
/// operator has opened another meanwhile: the one left would spend the workspace's rate limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_left_while_its_first_ask_waits_is_not_asked_again() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        let path = format!("/v1/conversations/{id}");
        fault(
            h,
            json!({ "route": format!("GET {path}"), "force_429_retry_after": 4, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        h.open(&format!("/conversations/{id}")).await?;
        poll_until("the first ask refused", SCREEN, || async {
            let asked = requests(h, "GET", |p| p == path).await?;
            Ok(asked.iter().any(|r| r.status == 429).then_some(()))
        })
        .await?;
        let other = row_ids(h)
            .await?
            .into_iter()
            .find(|r| *r != id)
            .ok_or_else(|| anyhow!("another conversation listed"))?;
        h.click(&format!("{ROW}[data-conversation-id='{other}'] a"))
            .await?;
        wait_thread(h, &other).await?;
        clear_requests(h).await?;
        settle("past the 429's wait", Duration::from_secs(5)).await;
        let asked = requests(h, "GET", |p| p == path).await?;
        ensure!(asked.is_empty(), "asked after it was left: {asked:?}");
        assert_no_crash(h).await
    })
    .await;
}

/// The first page asked for at start and held by a 429 is not asked for again once the
/// operator has picked other filters meanwhile: the list left would spend the workspace's rate
/// limit, and its wait would be counted down on screen for nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_page_left_while_it_waits_is_not_asked_for_again() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "force_429_retry_after": 12, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        h.open("/conversations").await?;
        wait_text(h, "#retry-notice", "retrying in", FIRST_SCREEN).await?;
        let refused = Instant::now();
        select(h, "select#filter-channel", "sms").await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        // Gone while the wait of the list left still runs (it is asked whether it is still
        // wanted four times a second).
        wait_gone(h, "#retry-notice", Duration::from_secs(1)).await?;
        ensure!(
            refused.elapsed() < Duration::from_secs(10),
            "the notice was looked for after the wait was over"
        );
        settle(
            "a late retry of the list left",
            Duration::from_secs(13).saturating_sub(refused.elapsed()),
        )
        .await;
        let unfiltered: Vec<u16> = first_page_requests(h)
            .await?
            .into_iter()
            .filter(|r| !r.query.as_deref().unwrap_or("").contains("channel="))
            .map(|r| r.status)
            .collect();
        ensure!(
            unfiltered == [429],
            "the list left was not asked for again: {unfiltered:?}"
        );
        assert_eq!(count(h, "#retry-notice").await?, 0, "no wait is shown");
        assert_no_crash(h).await
    })
    .await
}
