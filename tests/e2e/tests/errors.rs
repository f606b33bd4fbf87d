//! When the API misbehaves: rate limits waited out without the operator, server errors shown
//! with a way to retry, unknown conversations, and answers that are not the JSON promised.

use crate::common::*;
use serde_json::json;
use std::time::Duration;
use voicebip_e2e::anyhow::{anyhow, Result};
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

/// A list the operator leaves (other filters) while its page waits out a 429 is not asked for
/// again once the wait is over, and the notice stays while the list shown since still waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_left_while_it_waits_is_not_asked_for_again() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        // Idle a while first: the wait is said from its start, not from the last one's end.
        settle("the console idle before the wait", Duration::from_secs(3)).await;
        // (One refusal for each list: the inbox's own poll, which may come meanwhile, takes
        // neither.)
        for channel in ["sms", "whatsapp"] {
            fault(
                h,
                json!({ "route": "GET /v1/conversations", "force_429_retry_after": 3, "count": 1,
                        "query_contains": format!("channel={channel}") }),
            )
            .await?;
        }
        clear_requests(h).await?;
        select(h, "select#filter-channel", "sms").await?;
        wait_text(h, "#retry-notice", "retrying in", SCREEN).await?;
        // (Within the page's landmarks, as all its content.)
        h.assert_no_axe_violations("the inbox waiting out a rate limit")
            .await?;
        // Said as it comes, not only shown, with the seconds the API asked for.
        let said = wait_text(
            h,
            "#live-announcer",
            "Voicebip is busy; retrying in",
            SCREEN,
        )
        .await?;
        let secs = seconds_in(&said)?;
        assert!(secs <= 3, "the wait is said as asked for (3 s): {said:?}");
        select(h, "select#filter-channel", "whatsapp").await?;
        // (Refused too.)
        wait_list_answered(h, "channel=whatsapp", SCREEN).await?;
        settle("the SMS list's wait to be given up", Duration::from_secs(1)).await;
        assert_eq!(
            count(h, "#retry-notice").await?,
            1,
            "the WhatsApp list still waits, and says so"
        );
        wait_gone(h, "#retry-notice", SCREEN).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        settle("a late retry of the SMS list", Duration::from_secs(4)).await;
        let asked: Vec<(String, u16)> = requests(h, "GET", |p| p == "/v1/conversations")
            .await?
            .into_iter()
            .map(|r| (r.query.unwrap_or_default(), r.status))
            .collect();
        let left = asked
            .iter()
            .position(|(q, _)| q.contains("channel=whatsapp"))
            .ok_or_else(|| anyhow!("no WhatsApp list asked for: {asked:?}"))?;
        let sms = |(q, _): &&(String, u16)| q.contains("channel=sms");
        assert!(
            asked[..left]
                .iter()
                .find(sms)
                .is_some_and(|(_, s)| *s == 429)
                && !asked[left..].iter().any(|a| sms(&a)),
            "the SMS list refused, and, left, not asked for again: {asked:?}"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A conversation the operator leaves while its read waits out a 429 is not asked for again
/// once the wait is over (the workspace's rate limit is spent on what is shown), and its wait
/// goes from the notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_left_while_it_waits_is_not_asked_for_again() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let listed = api_list(h, "page_size=2").await?;
        let [left, other] = [0, 1].map(|i| str_field(&listed["conversations"][i], "conversation_id"));
        let (left, other) = (left?, other?);
        h.wait_for(&format!("{ROW}[data-conversation-id='{other}'] a"), SCREEN)
            .await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}", "force_429_retry_after": 4, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        h.click(&format!("{ROW}[data-conversation-id='{left}'] a"))
            .await?;
        wait_text(h, "#retry-notice", "retrying in", SCREEN).await?;
        h.click(&format!("{ROW}[data-conversation-id='{other}'] a"))
            .await?;
        wait_thread(h, &other).await?;
        let left_at = sim_now_ms(h).await?;
        wait_gone(h, "#retry-notice", SCREEN).await?;
        settle("past the left conversation's wait", Duration::from_secs(5)).await;
        // (Its stream's refetch, asked for before it was left, may come in beside the 429.)
        let path = format!("/v1/conversations/{left}");
        let asked = requests(h, "GET", |p| p == path)
            .await?
            .into_iter()
            .map(|r| Ok((r.at_ms()?, r.status)))
            .collect::<Result<Vec<_>>>()?;
        assert!(
            asked.iter().any(|(_, s)| *s == 429) && asked.iter().all(|(at, _)| *at < left_at),
            "refused, and not asked for again once left at {left_at}: {asked:?}"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// Two requests waiting at once, a long wait and a short one: once the short one's retry is in,
/// the notice counts the long one's seconds, not "0 s" for the rest of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notice_counts_the_wait_still_ahead() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let id = newest_conversation_id(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "force_429_retry_after": 30, "count": 1 }),
        )
        .await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}", "force_429_retry_after": 2, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        h.open(&format!("/conversations/{id}")).await?;
        wait_thread(h, &id).await?;
        h.wait_for_all(MESSAGE, 1, SCREEN).await?;
        // The thread is shown by its stream's refetch; its first request still waits its 2 s.
        settle("the thread's wait to end", Duration::from_secs(3)).await;
        let notice = wait_text(h, "#retry-notice", "retrying in", SCREEN).await?;
        let secs = seconds_in(&notice)?;
        // (Room for a slow start: the page may take seconds to show the thread.)
        assert!(
            (5..=28).contains(&secs),
            "the thread's retry is in; the list's wait has about 25 s left: {notice:?}"
        );
        // Said once for the wait, not again at each of its seconds.
        record_said(h).await?;
        settle("the wait's seconds", Duration::from_secs(2)).await;
        let again = said_since(h, "busy").await?;
        assert!(again.is_empty(), "the wait was said again: {again:?}");
        // (The list may be shown sooner, by its poll.)
        wait_gone(h, "#retry-notice", Duration::from_secs(40)).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A request of a session the operator signed out of may still be retrying (its key's): its
/// waits are not the connect screen's to show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_out_sessions_waits_are_not_shown() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let id = newest_conversation_id(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}", "force_429_retry_after": 5, "count": 6 }),
        )
        .await?;
        h.open(&format!("/conversations/{id}")).await?;
        wait_text(h, "#retry-notice", "retrying in", FIRST_SCREEN).await?;
        h.click("#sign-out").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        // The session's last refusal asked for a wait (5 s) that outlasts the sign-out: the
        // checks below that come before its end are made while an ended session waits.
        let path = format!("/v1/conversations/{id}");
        let refused = requests(h, "GET", |p| p == path)
            .await?
            .into_iter()
            .filter(|r| r.status == 429)
            .map(|r| r.at_ms())
            .collect::<Result<Vec<_>>>()?;
        let waits_until = refused
            .iter()
            .max()
            .ok_or_else(|| anyhow!("the conversation's reads were refused with 429"))?
            + 5_000;
        wait_gone(h, "#retry-notice", SCREEN).await?;
        // (The ended session's reads give up at the end of their wait, or are tried and refused
        // again, while the connect screen is shown.)
        let mut checked_while_waiting = 0;
        for _ in 0..10 {
            settle("a retry of the ended session", Duration::from_millis(500)).await;
            assert_eq!(count(h, "#retry-notice").await?, 0, "no wait shown on the connect screen");
            if sim_now_ms(h).await? < waits_until {
                checked_while_waiting += 1;
            }
        }
        assert!(
            checked_while_waiting > 0,
            "no check was made while the ended session waited (429s at {refused:?})"
        );
        assert_no_crash(h).await
    })
    .await;
}

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

/// Makes the page's `fetch` spoil one item of the answers to `GET`s of URLs containing `needle`
/// (not the stream): the second element of the answer's `list` gets `field: null`, which the
/// contract never sends for it. The rest of the answer is left as the server made it.
const SPOIL_ONE_ITEM: &str = r#"
const [needle, list, field] = arguments;
const real = window.fetch.bind(window);
window.fetch = async (input, init) => {
  const answer = await real(input, init);
  const url = typeof input === 'string' ? input : input.url;
  const method = (init && init.method) || (typeof input === 'string' ? 'GET' : input.method);
  if (!url.includes(needle) || url.includes('/stream') || method !== 'GET' || !answer.ok) {
    return answer;
  }
  const body = await answer.json();
  if (Array.isArray(body[list]) && body[list].length > 1) body[list][1][field] = null;
  return new Response(JSON.stringify(body), {
    status: 200, headers: { 'Content-Type': 'application/json' } });
};
"#;

/// One item the console cannot read (a required field `null`) leaves that item out and says
/// so; the rest of its page, of the list and of the conversation is shown (it failed the whole
/// page before, and Try again failed it again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unreadable_item_leaves_the_rest_of_its_page_shown() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        h.browser()
            .execute(
                SPOIL_ONE_ITEM,
                vec![
                    json!("/v1/conversations?"),
                    json!("conversations"),
                    json!("from_number"),
                ],
            )
            .await?;
        // The SMS filter asks for a new first page, through the spoiling fetch.
        h.wait_for("select#filter-channel", SCREEN)
            .await?
            .select_by_value("sms")
            .await?;
        let notice = wait_text(h, "#unreadable-rows", "", SCREEN).await?;
        assert!(notice.contains("could not be read"), "{notice:?}");
        wait_text(h, "#live-announcer", "could not be read", SCREEN).await?;
        let api = api_list(h, "channel=sms&page_size=50").await?;
        let spoiled = str_field(&api["conversations"][1], "conversation_id")?;
        let expected: Vec<String> = api["conversations"]
            .as_array()
            .ok_or_else(|| anyhow!("no conversations in {api}"))?
            .iter()
            .filter_map(|c| c["conversation_id"].as_str().map(str::to_string))
            .filter(|id| *id != spoiled)
            .take(5)
            .collect();
        poll_until("the other rows listed", SCREEN, || async {
            let shown: Vec<String> = row_ids(h).await?.into_iter().take(5).collect();
            Ok((shown == expected).then_some(()))
        })
        .await?;
        assert_eq!(count(h, "#error-banner").await?, 0, "no page failed");

        // A conversation with an unreadable message: the others are shown, with a notice.
        let id = expected[0].clone();
        h.browser()
            .execute(
                SPOIL_ONE_ITEM,
                vec![
                    json!(format!("/v1/conversations/{id}")),
                    json!("messages"),
                    json!("direction"),
                ],
            )
            .await?;
        h.click(&format!("{ROW}[data-conversation-id='{id}'] a"))
            .await?;
        wait_thread(h, &id).await?;
        let notice = wait_text(h, "#unreadable-messages", "", SCREEN).await?;
        assert!(notice.contains("could not be read"), "{notice:?}");
        // (The thread's notice, not the list's, said before it.)
        wait_text(
            h,
            "#live-announcer",
            "messages in this conversation could not be read",
            SCREEN,
        )
        .await?;
        assert_eq!(
            count(h, "#thread-error").await?,
            0,
            "the conversation is shown"
        );
        let full = api_conversation(h, &id).await?;
        let total = full["messages"].as_array().map_or(0, Vec::len);
        poll_until("every other message shown", SCREEN, || async {
            Ok((shown_messages(h).await?.len() + 1 == total).then_some(()))
        })
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A conversation refused once with a status the browser may cache without a word from the
/// server (`410 Gone`): Try again asks the API again and opens it, where the browser answered it
/// from its cache with the same refusal, for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_again_after_a_cacheable_refusal_asks_the_api_again() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        fault(
            h,
            json!({ "route": format!("GET /v1/conversations/{id}"), "status": 410 }),
        )
        .await?;
        h.open(&format!("/conversations/{id}")).await?;
        h.wait_for("#thread-error", FIRST_SCREEN).await?;
        // (The stream's opening asks too.)
        settle("the stream's refetch", Duration::from_millis(1_500)).await;
        clear_faults(h).await?;
        clear_requests(h).await?;
        h.click("#thread-error-retry").await?;
        wait_thread(h, &id).await?;
        assert!(
            !newest_page_requests(h, &id).await?.is_empty(),
            "asked of the API, not of the cache"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A page refused by a rate limit longer than the console waits out itself (over a minute) is
/// the operator's to wait: Try again before the wait is over says how long is left and asks
/// nothing, where it asked at once, inside the limit, to be refused again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_again_within_a_long_rate_limit_says_how_long_is_left() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "force_429_retry_after": 120, "count": 2,
                    "query_contains": "channel=sms" }),
        )
        .await?;
        select(h, "select#filter-channel", "sms").await?;
        try_again_is_told_how_long_is_left(h, "error-banner").await?;
        assert_no_crash(h).await
    })
    .await;
}

/// As for the list, so for a conversation: its Try again within a long rate limit asks
/// nothing, and neither do its refreshes (here, at the stream's failed tries), each of which
/// was refused, and its banner said, again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_threads_try_again_within_a_long_rate_limit_says_how_long_is_left() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let id = newest_conversation_id(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}", "force_429_retry_after": 120,
                    "count": 2 }),
        )
        .await?;
        // (Its refusals come after the first page's: that page's 429 starts the wait.)
        fault(
            h,
            json!({ "route": format!("GET /v1/conversations/{id}/stream"), "stream_status": 503,
                    "latency_ms": 1000 }),
        )
        .await?;
        clear_requests(h).await?;
        h.click(&format!("{ROW}[data-conversation-id='{id}'] a"))
            .await?;
        try_again_is_told_how_long_is_left(h, "thread-error").await?;
        settle("the stream's next tries", Duration::from_secs(2)).await;
        let path = format!("/v1/conversations/{id}");
        let asked = requests(h, "GET", |p| p == path).await?.len();
        assert_eq!(asked, 1, "the first page only, refused");
        assert_no_crash(h).await
    })
    .await;
}

/// Presses Try again on the banner `banner` (its id), shown for a 120-s rate limit: it says how
/// many of those seconds are left, and asks nothing (the banner stays as it was).
async fn try_again_is_told_how_long_is_left(h: &Harness, banner: &str) -> Result<()> {
    wait_text(h, &format!("#{banner}"), "wait 120 s", SCREEN).await?;
    // (A Try again that asks takes the banner down and brings a new one; a poll, which may
    // come meanwhile and asks for the same list, leaves it be.)
    h.browser()
        .execute(
            "document.getElementById(arguments[0]).dataset.seen = '1';",
            vec![json!(banner)],
        )
        .await?;
    h.click(&format!("#{banner}-retry")).await?;
    let said = wait_text(h, "#live-announcer", "s more, then try again", SCREEN).await?;
    assert_seconds_left(&said, 120)?;
    settle("a request, were there one", Duration::from_secs(1)).await;
    let kept = h
        .browser()
        .execute(
            "return document.getElementById(arguments[0])?.dataset.seen ?? null;",
            vec![json!(banner)],
        )
        .await?;
    assert_eq!(
        kept,
        json!("1"),
        "the banner as it was: nothing asked within the limit"
    );
    Ok(())
}

/// A list whose first page failed is filled by the next poll once the API answers again, and
/// its failure goes with it: the banner stayed up over the rows, and held back the pages below.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_failed_is_filled_by_the_next_poll() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "status": 503 }),
        )
        .await?;
        h.open("/conversations").await?;
        h.wait_for("#error-banner-retry", FIRST_SCREEN).await?;
        clear_faults(h).await?;
        // The poll, 10 s after the list's start.
        h.wait_for_all(ROW, 6, Duration::from_secs(20)).await?;
        wait_gone(h, "#error-banner", SCREEN).await?;
        // The pages below come as the operator scrolls down.
        let before = requests(h, "GET", |p| p == "/v1/conversations").await?.len();
        h.browser()
            .execute(
                "const s = document.querySelector('.conversation-scroller'); s.scrollTop = s.scrollHeight;",
                vec![],
            )
            .await?;
        poll_until("a page below the polled one", SCREEN, || async {
            let pages = requests(h, "GET", |p| p == "/v1/conversations").await?;
            Ok(pages
                .iter()
                .skip(before)
                .any(|r| r.query.as_deref().unwrap_or("").contains("page_token"))
                .then_some(()))
        })
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The simulator's clock (which times its request log), in milliseconds since the epoch.
async fn sim_now_ms(h: &Harness) -> Result<i64> {
    let clock = h.sim_get("/sim/clock").await?;
    let now = clock["now"]
        .as_str()
        .ok_or_else(|| anyhow!("no `now` in {clock}"))?;
    voicebip_sim::parse_ts(now).ok_or_else(|| anyhow!("an unreadable time: {now}"))
}
