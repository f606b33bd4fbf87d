//! The live thread: one stream per open conversation, events shown exactly once, a dropped
//! stream recovered without losing what was said meanwhile, bad frames ignored, and a refused
//! key on the stream ending the session.

use crate::common::*;
use serde_json::json;
use voicebip_e2e::anyhow::{anyhow, Context, Result};
use voicebip_e2e::{poll_until, with_harness, Harness, Key, Options};

/// Reconnecting backs off up to 8 s (with jitter) between attempts.
const RECONNECT: std::time::Duration = std::time::Duration::from_secs(30);

fn stream_route(id: &str) -> String {
    format!("GET /v1/conversations/{id}/stream")
}

/// Signs in and opens the first conversation listed, its stream under the fault `spec` (a
/// fault rule without its route); its id.
async fn open_with_stream_fault(h: &Harness, mut spec: serde_json::Value) -> Result<String> {
    sign_in(h).await?;
    let a = row_ids(h)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no conversation listed"))?;
    spec["route"] = json!(stream_route(&a));
    fault(h, spec).await?;
    h.click(&format!("{ROW}[data-conversation-id='{a}'] a"))
        .await?;
    wait_thread(h, &a).await?;
    Ok(a)
}

/// Signs in and opens `id`'s thread with every request for its stream refused with `status`,
/// once the indicator shows `state`.
async fn open_with_stream_refused(h: &Harness, id: &str, status: u16, state: &str) -> Result<()> {
    sign_in(h).await?;
    fault(
        h,
        json!({ "route": stream_route(id), "stream_status": status }),
    )
    .await?;
    open_thread(h, id).await?;
    wait_attr(h, "#connection-status", "data-state", state).await
}

/// Waits up to `within` for the customer's message `body`, brought by a refresh of the thread.
async fn wait_refreshed(h: &Harness, body: &str, within: std::time::Duration) -> Result<()> {
    poll_until("the message, refreshed", within, || async {
        Ok((!shown_with_body(h, body).await?.is_empty()).then_some(()))
    })
    .await
}

/// Every request for a stream was answered `status`.
async fn assert_stream_refused_throughout(h: &Harness, status: u16) -> Result<()> {
    let streams = requests(h, "GET", |p| p.ends_with("/stream")).await?;
    assert!(
        streams.iter().all(|r| r.status == status),
        "the stream was refused throughout: {streams:?}"
    );
    Ok(())
}

/// From now on, records each state the connection indicator shows ([`states_shown`]).
async fn record_states(h: &Harness) -> Result<()> {
    h.browser()
        .execute(
            "const el = document.getElementById('connection-status');
             window.__states = [];
             new MutationObserver(() => window.__states.push(el.dataset.state))
               .observe(el, { attributes: true, childList: true, subtree: true });",
            vec![],
        )
        .await?;
    Ok(())
}

/// The states recorded since [`record_states`].
async fn states_shown(h: &Harness) -> Result<serde_json::Value> {
    Ok(h.browser()
        .execute("return window.__states;", vec![])
        .await?)
}

/// The customer writes `body` into conversation `id`, whose stream has died without a word:
/// nothing shows it.
async fn said_through_a_dead_stream(h: &Harness, id: &str, body: &str) -> Result<()> {
    inject(h, id, body).await?;
    settle("the silent stream", std::time::Duration::from_secs(1)).await;
    assert!(
        shown_with_body(h, body).await?.is_empty(),
        "not through a dead stream"
    );
    Ok(())
}

/// Moves the page's clock `ms` on, until [`restore_clock`], for the checks timed by it.
async fn shift_clock(h: &Harness, ms: u64) -> Result<()> {
    h.browser()
        .execute(
            "window.__now = window.__now || Date.now;
             const shift = arguments[0];
             Date.now = () => window.__now.call(Date) + shift;",
            vec![json!(ms)],
        )
        .await?;
    Ok(())
}

async fn restore_clock(h: &Harness) -> Result<()> {
    h.browser()
        .execute("if (window.__now) Date.now = window.__now;", vec![])
        .await?;
    Ok(())
}

/// The message ids shown, top to bottom (server messages only).
async fn shown_ids(h: &Harness) -> Result<Vec<String>> {
    Ok(shown_messages(h)
        .await?
        .into_iter()
        .filter_map(|m| m.id)
        .collect())
}

/// Each body is shown exactly once, in this order.
async fn assert_once_in_order(h: &Harness, bodies: &[&str]) -> Result<()> {
    let shown = shown_messages(h).await?;
    let mut last = None;
    for body in bodies {
        let at: Vec<usize> = shown
            .iter()
            .enumerate()
            .filter(|(_, m)| m.body == *body)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(at.len(), 1, "{body:?} is shown exactly once: {shown:#?}");
        assert!(
            last.is_none_or(|l| l < at[0]),
            "{body:?} is shown after the one before it: {shown:#?}"
        );
        last = Some(at[0]);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_updates_once_survive_a_drop_and_stop_on_401() {
    with_harness(Options::default(), async |h: &Harness| {
        // Streams that go away are noticed within a second.
        settings(h, json!({ "keepalive_ms": 500 })).await?;
        sign_in(h).await?;
        let ids = row_ids(h).await?;
        let (a, b) = match ids.as_slice() {
            [a, b, ..] => (a.clone(), b.clone()),
            _ => return Err(anyhow!("need two conversations in the list, got {ids:?}")),
        };

        // A's stream starts with a frame cut short (no valid JSON): skipped, counted, nothing
        // shown.
        fault(
            h,
            json!({ "route": stream_route(&a), "malformed_frame": true, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        h.click(&format!("{ROW}[data-conversation-id='{a}'] a"))
            .await?;
        wait_thread(h, &a).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        wait_attr(h, "#skipped-frames", "data-count", "1").await?;
        // It may have been a message: the newest page is asked for again, once (after the
        // thread's own request and the stream's).
        poll_until("a refetch for the frame skipped", SCREEN, || async {
            Ok((newest_page_requests(h, &a).await?.len() >= 3).then_some(()))
        })
        .await?;
        settle("no second refetch", std::time::Duration::from_millis(1_500)).await;
        assert_eq!(newest_page_requests(h, &a).await?.len(), 3);
        let mut expected: Vec<String> = api_conversation(h, &a).await?["messages"]
            .as_array()
            .ok_or_else(|| anyhow!("no messages"))?
            .iter()
            .map(|m| str_field(m, "message_id"))
            .collect::<Result<_>>()?;
        expected.reverse();
        assert_eq!(
            shown_ids(h).await?,
            expected,
            "the bad frame added or changed nothing"
        );
        assert_eq!(
            count(
                h,
                "#error-banner, #thread-error, #action-error, #template-error"
            )
            .await?,
            0
        );
        assert_eq!(
            subscribers(h, &a).await?,
            1,
            "one stream for the open thread"
        );

        // Inbound messages arrive live, once each, in order.
        inject(h, &a, "Live one: is my order out?").await?;
        wait_message(h, "Live one: is my order out?", "live", |m| m.id.is_some()).await?;
        inject(h, &a, "Live two: it says pending").await?;
        wait_message(h, "Live two: it says pending", "live", |m| m.id.is_some()).await?;
        assert_once_in_order(
            h,
            &["Live one: is my order out?", "Live two: it says pending"],
        )
        .await?;
        wait_text(h, "#live-announcer", "Live two", SCREEN).await?;

        // Switching: A's stream closes, B's opens — one at a time. B's first stream will end
        // after one event, as a broken proxy would.
        fault(
            h,
            json!({ "route": stream_route(&b), "drop_stream_after": 1, "count": 1 }),
        )
        .await?;
        h.click(&format!("{ROW}[data-conversation-id='{b}'] a"))
            .await?;
        wait_thread(h, &b).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        wait_subscribers(h, &a, 0).await?;
        wait_subscribers(h, &b, 1).await?;
        // From now on B's reconnects are refused until the fault is cleared.
        fault(
            h,
            json!({ "route": stream_route(&b), "stream_status": 503 }),
        )
        .await?;

        // What the operator has in hand when the stream drops: the thread as it is drawn, and
        // the focus on its messages.
        h.browser()
            .execute(
                "document.getElementById('thread').__before_drop = true;
                 document.querySelector('.message-scroller').focus();",
                vec![],
            )
            .await?;

        let first = "Before the drop: hello?";
        inject(h, &b, first).await?;
        wait_message(h, first, "live", |m| m.id.is_some()).await?;
        wait_attr(h, "#connection-status", "data-state", "reconnecting").await?;
        wait_subscribers(h, &b, 0).await?;
        let down = ["While down 1", "While down 2", "While down 3"];
        for body in down {
            inject(h, &b, body).await?;
            // Distinct millisecond timestamps: messages of the same millisecond are ordered by
            // id (by the API as by the console), not by arrival.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        clear_faults(h).await?;
        wait_live_again(h).await?;
        for body in down {
            wait_message(h, body, "after the reconnect", |m| m.id.is_some()).await?;
        }
        let mut all = vec![first];
        all.extend(down);
        assert_once_in_order(h, &all).await?;
        // The reconnect's refresh merged into the thread as drawn: not rebuilt, focus kept.
        let kept = h
            .browser()
            .execute(
                "return [document.getElementById('thread').__before_drop === true,
                         document.activeElement.classList.contains('message-scroller')];",
                vec![],
            )
            .await?;
        assert_eq!(
            kept,
            json!([true, true]),
            "[the same thread view, the focus where it was] after the reconnect"
        );
        // The same order as the API's (newest first there).
        let api_order: Vec<String> = api_conversation(h, &b).await?["messages"]
            .as_array()
            .ok_or_else(|| anyhow!("no messages"))?
            .iter()
            .rev()
            .filter(|m| all.iter().any(|b| m["body"] == *b))
            .map(|m| str_field(m, "body"))
            .collect::<Result<_>>()?;
        assert_eq!(
            api_order, all,
            "the API stored them in the order they were sent"
        );
        wait_subscribers(h, &b, 1).await?;

        // A stream refused with 401, the key taken by the rest of the API (a gateway that
        // refuses `?token=`): the operator stays in, the thread refreshed on a timer. (It
        // signed the operator out, at every conversation opened.)
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}/stream", "stream_status": 401 }),
        )
        .await?;
        h.click(&format!("{ROW}[data-conversation-id='{a}'] a"))
            .await?;
        wait_attr(h, "#connection-status", "data-state", "polling").await?;
        let polled = "Brought by a refresh, the stream refused";
        inject(h, &a, polled).await?;
        poll_until("the refreshed message", RECONNECT, || async {
            Ok((!shown_with_body(h, polled).await?.is_empty()).then_some(()))
        })
        .await?;
        assert_eq!(
            h.path().await?,
            format!("/conversations/{a}"),
            "still signed in"
        );

        // Refused everywhere: the key is gone, and the session ends.
        fault(h, json!({ "route": "*", "status": 401 })).await?;
        h.wait_for_path("/connect", RECONNECT).await?;
        clear_faults(h).await?;
        let notice = poll_until("the connect screen to say why", SCREEN, || async {
            Ok(h.texts("#connect-error")
                .await?
                .into_iter()
                .find(|t| !t.is_empty()))
        })
        .await?;
        assert!(notice.to_lowercase().contains("key"), "{notice:?}");
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.key").await?,
            None
        );
        // What the live region last said (a customer's message) is not left in the page for
        // the connect screen, or whoever signs in next, to read.
        poll_until("the live region emptied", SCREEN, || async {
            let said = h.texts("#live-announcer").await?.join("");
            Ok(said.trim().is_empty().then_some(()))
        })
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The hosted AI's reply reaches the stream only as `message.sent` and the receipts after it,
/// each carrying the whole message: the thread shows it from those, once, and follows its
/// receipts, without fetching the conversation again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ais_reply_shows_live_from_its_receipts() {
    with_harness(Options::default(), async |h: &Harness| {
        let fetched = the_ais_reply_shows(h, false).await?;
        assert_eq!(
            fetched, 0,
            "the stream brought it: the conversation was not fetched again"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// Receipts with only the fields API.md names (no `created_at`, as the real API may send
/// them) cannot show the AI's reply by themselves: the thread fetches the conversation for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ais_reply_shows_from_receipts_that_say_too_little() {
    with_harness(Options::default(), async |h: &Harness| {
        let fetched = the_ais_reply_shows(h, true).await?;
        assert!(
            (1..=3).contains(&fetched),
            "fetched for the unseen message, once per receipt at most: {fetched}"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// The customer of an AI-answered conversation writes in, and the AI's reply shows in the open
/// thread, delivered, once, as the API has it; `lean`: its receipts carry only the documented
/// fields. Gives how often the conversation was fetched meanwhile.
async fn the_ais_reply_shows(h: &Harness, lean: bool) -> Result<usize> {
    settings(
        h,
        json!({ "ai_reply_delay_ms": 300, "status_step_ms": 300, "lean_payloads": lean }),
    )
    .await?;
    let id = open_live(h, "ai", "sms").await?;
    let before = shown_ids(h).await?;
    clear_requests(h).await?;

    inject(h, &id, "Hello, where is my parcel?").await?;
    let reply = poll_until(
        "the AI's reply, delivered, in the thread",
        SCREEN,
        || async {
            Ok(shown_messages(h).await?.into_iter().find(|m| {
                m.direction.as_deref() == Some("outbound")
                    && m.status.as_deref() == Some("delivered")
                    && m.id.as_ref().is_some_and(|id| !before.contains(id))
            }))
        },
    )
    .await?;
    // Read before the test's own reads of the API below, which the log counts as well.
    let fetched = newest_page_requests(h, &id).await?.len();
    assert_eq!(
        shown_with_body(h, &reply.body).await?.len(),
        1,
        "shown once"
    );
    let api = api_conversation(h, &id).await?;
    let in_api = api["messages"]
        .as_array()
        .and_then(|ms| {
            ms.iter()
                .find(|m| m["message_id"].as_str() == reply.id.as_deref())
        })
        .ok_or_else(|| anyhow!("{reply:?} is not in the API"))?;
    assert_eq!(in_api["direction"], "outbound");
    assert_eq!(in_api["body"], reply.body.as_str());
    Ok(fetched)
}

/// Signs in and opens a conversation the operator has taken over, whose refresh (the one a STOP
/// asks for) fails while the API does (the fault stays): its id, once the failure is shown.
async fn a_refresh_failed(h: &Harness) -> Result<String> {
    let id = open_live(h, "human", "sms").await?;
    fault(
        h,
        json!({ "route": "GET /v1/conversations/{id}", "status": 503 }),
    )
    .await?;
    inject(h, &id, "STOP").await?;
    h.wait_for("#refresh-error", RECONNECT).await?;
    assert_eq!(count(h, "#opt-out-banner").await?, 0, "not known yet");
    Ok(id)
}

/// The operator is on a failed refresh's Try again when a refresh made meanwhile succeeds and
/// the banner goes by itself: the keyboard goes on in the thread, not at the page's start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_that_clears_by_itself_keeps_the_keyboards_place() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = a_refresh_failed(h).await?;
        h.browser()
            .execute(
                "document.getElementById('refresh-error-retry').focus();",
                vec![],
            )
            .await?;
        clear_faults(h).await?;
        inject(h, &id, "stop").await?;
        h.wait_for("#opt-out-banner", SCREEN).await?;
        wait_gone(h, "#refresh-error", SCREEN).await?;
        wait_focus_in(h, "#thread", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A refresh of an open thread that fails (here the one a STOP asks for, while the API fails)
/// says so, with Try again: it failed silently, and what it was to bring stayed missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_that_fails_says_so_and_can_be_tried_again() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = a_refresh_failed(h).await?;
        // Another refresh failing the same way (the stream reopened, say) leaves the alert up as
        // it is: taken down and put back, it was read out again each time.
        h.browser()
            .execute(
                "document.getElementById('refresh-error').__seen = true;",
                vec![],
            )
            .await?;
        let path = format!("/v1/conversations/{id}");
        let failed = async || -> Result<usize> {
            Ok(h.sim_requests()
                .await?
                .iter()
                .filter(|r| r.method == "GET" && r.path == path && r.status == 503)
                .count())
        };
        let before = failed().await?;
        inject(h, &id, "stop").await?;
        poll_until("the next refresh to fail in full", RECONNECT, || async {
            Ok((failed().await? >= before + 4).then_some(()))
        })
        .await?;
        settle("its answer shown", std::time::Duration::from_secs(1)).await;
        let same = h
            .browser()
            .execute(
                "const e = document.getElementById('refresh-error'); return !!(e && e.__seen);",
                vec![],
            )
            .await?;
        assert_eq!(same, json!(true), "the same alert stays up");

        clear_faults(h).await?;
        h.click("#refresh-error button").await?;
        h.wait_for("#opt-out-banner", SCREEN).await?;
        wait_gone(h, "#refresh-error", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Opens a human SMS conversation (its id), live, whose stream ends after its first event.
async fn open_with_a_stream_that_ends(h: &Harness) -> Result<String> {
    settings(h, json!({ "keepalive_ms": 500 })).await?;
    let conv = reachable(h, "human", "sms").await?;
    let id = str_field(&conv, "conversation_id")?;
    fault(
        h,
        json!({ "route": stream_route(&id), "drop_stream_after": 1, "count": 1 }),
    )
    .await?;
    sign_in(h).await?;
    open_thread(h, &id).await?;
    wait_attr(h, "#connection-status", "data-state", "live").await?;
    Ok(id)
}

/// Waits for the stream to be live, within a reconnect's backoff (after a drop, or a stream that
/// had not opened).
async fn wait_live_again(h: &Harness) -> Result<()> {
    poll_until("the stream live again", RECONNECT, || async {
        Ok(attr_is(h, "#connection-status", "data-state", "live")
            .await?
            .then_some(()))
    })
    .await
}

/// A stream down while more is said than one page holds: when it is back, the refetch of the
/// newest page is followed by the pages below it, down to what was shown, so nothing said
/// meanwhile is missing (it showed the newest page and left a hole below it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_drop_loses_nothing_said_meanwhile() {
    with_harness(Options::default(), async |h: &Harness| {
        let (_, said) = said_while_the_stream_is_down(h, "While away").await?;
        clear_faults(h).await?;
        wait_live_again(h).await?;
        wait_all_shown_once(h, &said).await?;
        // (Their order is not checked: injected this fast, several share a millisecond, and the
        // simulator orders those by id.) Screen readers hear of them too, as of live ones.
        wait_text(
            h,
            "#live-announcer",
            "60 new messages from the customer",
            SCREEN,
        )
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Opens a conversation live, its stream then refused until the faults are cleared, and has
/// the customer say more than a page (50) meanwhile: 60 messages, `prefix` and their number.
/// The conversation, and what was said.
async fn said_while_the_stream_is_down(h: &Harness, prefix: &str) -> Result<(String, Vec<String>)> {
    // The first stream ends after one event, and reconnects are refused until cleared.
    let id = open_with_a_stream_that_ends(h).await?;
    fault(
        h,
        json!({ "route": stream_route(&id), "stream_status": 503 }),
    )
    .await?;
    inject(h, &id, "Before the drop").await?;
    wait_message(h, "Before the drop", "live", |m| m.id.is_some()).await?;
    poll_until("the stream to be down", SCREEN, || async {
        Ok((!attr_is(h, "#connection-status", "data-state", "live").await?).then_some(()))
    })
    .await?;
    let said: Vec<String> = (0..60).map(|i| format!("{prefix} {i:02}")).collect();
    for body in &said {
        inject(h, &id, body).await?;
    }
    Ok((id, said))
}

/// Waits until each of `said` is shown, once.
async fn wait_all_shown_once(h: &Harness, said: &[String]) -> Result<()> {
    poll_until("everything said meanwhile", SCREEN, || async {
        let shown = shown_messages(h).await?;
        Ok(said
            .iter()
            .all(|b| shown.iter().filter(|m| &m.body == b).count() == 1)
            .then_some(()))
    })
    .await
}

/// The page below the newest, of what was said while the stream was down, refused by its token
/// (a gateway's 404 for one used up): the conversation is not gone. It stays on screen with Try
/// again, which brings what was missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_page_of_what_a_drop_missed_is_not_the_conversation_gone() {
    with_harness(Options::default(), async |h: &Harness| {
        let (id, said) = said_while_the_stream_is_down(h, "Meanwhile").await?;
        clear_faults(h).await?;
        fault(
            h,
            json!({ "route": format!("GET /v1/conversations/{id}"), "status": 404,
                    "query_contains": "page_token", "count": 1 }),
        )
        .await?;
        wait_live_again(h).await?;
        wait_text(h, "#refresh-error", "Try again fetches them", SCREEN).await?;
        assert_eq!(
            count(h, "#not-found").await?,
            0,
            "the conversation is not gone"
        );
        h.click("#refresh-error button").await?;
        wait_all_shown_once(h, &said).await?;
        wait_gone(h, "#refresh-error", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The refresh that brings what a dropped stream missed is refused for a rate limit longer than
/// the console waits out by itself: the stream comes back live meanwhile, and its own refresh is
/// held back by the wait. Once the wait is over the thread is refreshed, so what was said while
/// the stream was down shows (it never came: nothing asked again while the stream showed live).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_drop_missed_comes_once_a_rate_limits_wait_is_over() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_with_a_stream_that_ends(h).await?;
        // The next refresh of the thread is refused for 61 s (past the 60 s the client waits
        // out by itself), and the stream's reconnects, until cleared.
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}", "force_429_retry_after": 61, "count": 1 }),
        )
        .await?;
        fault(
            h,
            json!({ "route": stream_route(&id), "stream_status": 503 }),
        )
        .await?;
        inject(h, &id, "Before the drop").await?;
        wait_message(h, "Before the drop", "live", |m| m.id.is_some()).await?;
        // (The refresh of a failed try takes the 429.)
        wait_text(h, "#refresh-error", "Too many requests", RECONNECT).await?;
        inject(h, &id, "Said while held back").await?;
        clear_faults(h).await?;
        wait_live_again(h).await?;
        settle("the stream live within the wait", std::time::Duration::from_secs(2)).await;
        let early = shown_messages(h).await?;
        assert!(
            early.iter().all(|m| m.body != "Said while held back"),
            "not asked for within the wait"
        );
        poll_until("what was said, once the wait is over", std::time::Duration::from_secs(80), || async {
            let shown = shown_messages(h).await?;
            Ok(shown
                .iter()
                .any(|m| m.body == "Said while held back")
                .then_some(()))
        })
        .await?;
        wait_gone(h, "#refresh-error", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Makes the page's `fetch` hold back the answers to `GET`s of URLs containing `needle` (not the
/// stream), once the server has made them, until `window.__release()`: the stream opens, and
/// hears of later news, while the thread's first page, made before that news, is on its way.
const HOLD_ANSWERS: &str = r#"
const needle = arguments[0];
const real = window.fetch.bind(window);
const held = new Promise((release) => { window.__release = release; });
window.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input.url;
  const method = (init && init.method) || (typeof input === 'string' ? 'GET' : input.method);
  const answer = await real(input, init);
  if (url.includes(needle) && method === 'GET' && !url.includes('/stream')) {
    await held;
  }
  return answer;
};
"#;

/// A customer writes just as the thread opens: the stream brings it before the first page is
/// shown, and that page was made before it. It is shown all the same (it was lost until the
/// stream next reconnected), and handled as the stream's messages are: a STOP shows the
/// opt-out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_stream_brings_before_the_first_page_is_kept() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        // One not opted out already (its STOP would be the seed's), listed on screen.
        let mut id = None;
        for listed in row_ids(h).await? {
            if api_conversation(h, &listed).await?["opt_out"] == false {
                id = Some(listed);
                break;
            }
        }
        let id = id.ok_or_else(|| anyhow!("no conversation listed that is not opted out"))?;
        h.browser()
            .execute(HOLD_ANSWERS, vec![json!(format!("/v1/conversations/{id}"))])
            .await?;
        h.click(&format!("{ROW}[data-conversation-id='{id}'] a"))
            .await?;
        wait_subscribers(h, &id, 1).await?;
        // Both of the thread's first requests (as it opens, and as its stream opens) answered by
        // the server, before the customer writes.
        let path = format!("/v1/conversations/{id}");
        poll_until(
            "the thread's two first requests answered",
            SCREEN,
            || async {
                let made = requests(h, "GET", |p| p == path).await?.len();
                Ok((made >= 2).then_some(()))
            },
        )
        .await?;
        // STOP: the opt-out it records is the server's to tell, which the console asks for.
        let body = "STOP";
        let written = str_field(&inject(h, &id, body).await?, "message_id")?;
        // The stream's news is in before the first page, which is still held back.
        settle(
            "the stream's message received",
            std::time::Duration::from_millis(500),
        )
        .await;
        assert_eq!(
            count(h, "article#thread").await?,
            0,
            "the thread is still loading"
        );
        h.browser().execute("window.__release();", vec![]).await?;
        wait_thread(h, &id).await?;
        wait_message(h, body, "shown though it came before the first page", |m| {
            m.id.as_deref() == Some(written.as_str())
        })
        .await?;
        // And handled as the stream's messages are: the opt-out shows.
        h.wait_for("#opt-out-banner", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A frame of an event type the console does not know (an API newer than it) may have changed
/// what the thread shows: it is skipped, and the newest page asked for again, at most every
/// 15 s, the last of a run brought all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_event_type_brings_one_refetch() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_live(h, "human", "sms").await?;
        let before = shown_ids(h).await?;
        clear_requests(h).await?;
        h.sim_post(
            &format!("/sim/conversations/{id}/events"),
            &json!({ "event_type": "message.reaction_added", "payload": { "reaction": "+1" } }),
        )
        .await?;
        wait_attr(h, "#skipped-frames", "data-count", "1").await?;
        poll_until("a refetch for the unknown event", SCREEN, || async {
            Ok((!newest_page_requests(h, &id).await?.is_empty()).then_some(()))
        })
        .await?;
        // Another at once is not asked about again (a newer API may stream a frequent kind).
        h.sim_post(
            &format!("/sim/conversations/{id}/events"),
            &json!({ "event_type": "conversation.typing", "payload": {} }),
        )
        .await?;
        wait_attr(h, "#skipped-frames", "data-count", "2").await?;
        settle("no second refetch", std::time::Duration::from_millis(1_500)).await;
        assert_eq!(newest_page_requests(h, &id).await?.len(), 1);
        // But the last of a run is still brought, 15 s after the first.
        let asked = poll_until(
            "a refetch for the run's last",
            std::time::Duration::from_secs(30),
            || async {
                let asked = newest_page_requests(h, &id).await?;
                Ok((asked.len() >= 2).then_some(asked))
            },
        )
        .await?;
        let apart = asked[1].at_ms()? - asked[0].at_ms()?;
        assert!(
            (13_500..=20_000).contains(&apart),
            "the second refetch {apart} ms after the first: {asked:?}"
        );
        assert_eq!(newest_page_requests(h, &id).await?.len(), 2);
        assert_eq!(shown_ids(h).await?, before, "nothing added or changed");
        assert_eq!(
            count(
                h,
                "#error-banner, #thread-error, #action-error, #template-error"
            )
            .await?,
            0
        );
        assert_no_crash(h).await
    })
    .await;
}

/// The stream of `id` is open again: what the customer says next comes within a moment, as only
/// a stream brings it (a refetch, which also brings what was missed, comes every 15 s at most).
async fn streaming_again(h: &Harness, id: &str) -> Result<()> {
    let next = "Said once the stream was open again";
    inject(h, id, next).await?;
    poll_until(
        "the next message, by the stream",
        std::time::Duration::from_secs(5),
        || async { Ok((!shown_with_body(h, next).await?.is_empty()).then_some(())) },
    )
    .await
}

/// A stream that went silent without ending (a laptop's sleep, a NAT that forgot it) is opened
/// afresh when the tab is shown again after a while away, and the message it missed comes in,
/// without a reconnect shown (or said) each time the operator comes back to the tab.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_shown_again_after_a_while_reopens_a_silent_stream() {
    with_harness(Options::default(), async |h: &Harness| {
        let a = open_with_stream_fault(h, json!({ "stall_stream": true, "count": 1 })).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        record_states(h).await?;
        let missed = "Sent while the connection was dead";
        said_through_a_dead_stream(h, &a, missed).await?;
        // Hidden, then shown again a minute and more later (the clock moved on for the check).
        h.browser()
            .execute(
                "const flip = hidden => {
                   Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
                   document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
                 };
                 flip(true);
                 const now = Date.now;
                 Date.now = () => now.call(Date) + 61000;
                 flip(false);
                 Date.now = now;",
                vec![],
            )
            .await?;
        wait_message(h, missed, "brought by the refetch", |m| m.id.is_some()).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        let states = states_shown(h).await?;
        assert!(
            states
                .as_array()
                .is_some_and(|s| s.iter().all(|s| s == "live")),
            "coming back to the tab is not shown as a reconnect: {states}"
        );
        streaming_again(h, &a).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A tab kept in view all day: its stream dies without a word (`EventSource` hides the
/// keepalives that would tell), and the console opens it afresh after two minutes of silence,
/// bringing what was missed, without showing the operator a reconnect that is only a check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_silent_for_minutes_in_view_is_opened_afresh() {
    with_harness(Options::default(), async |h: &Harness| {
        let a = open_with_stream_fault(h, json!({ "stall_stream": true, "count": 1 })).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        record_states(h).await?;
        let missed = "Sent while the connection was dead, tab in view";
        said_through_a_dead_stream(h, &a, missed).await?;
        // Two minutes on, without the tab ever hidden.
        shift_clock(h, 121000).await?;
        let brought = wait_message(h, missed, "brought by the refetch", |m| m.id.is_some()).await;
        restore_clock(h).await?;
        brought?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        let states = states_shown(h).await?;
        assert!(
            states
                .as_array()
                .is_some_and(|s| s.iter().all(|s| s == "live")),
            "the check is not shown as a reconnect: {states}"
        );
        streaming_again(h, &a).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A silent stream opened afresh, and refused (a gateway's 502): while the console asks what
/// the refusal was, which may take a while, the indicator says it is reconnecting, not live (the
/// renewal is shown as live, and the question kept it so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_stream_refused_is_not_shown_live_while_it_is_looked_into() {
    with_harness(Options::default(), async |h: &Harness| {
        let a = open_with_stream_fault(h, json!({ "stall_stream": true, "count": 1 })).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        // The renewal's stream and the question after it: each answered 502, 6 s late.
        fault(
            h,
            json!({ "route": stream_route(&a), "stream_status": 502, "latency_ms": 6000 }),
        )
        .await?;
        clear_requests(h).await?;
        shift_clock(h, 121000).await?;
        let path = format!("/v1/conversations/{a}/stream");
        let refused = poll_until("the renewal refused", RECONNECT, || async {
            let asked = requests(h, "GET", |p| p == path).await?;
            Ok((!asked.is_empty()).then_some(()))
        })
        .await;
        restore_clock(h).await?;
        refused?;
        // The question is on its way (6 s): the state is the one shown meanwhile.
        settle(
            "the refusal taken in",
            std::time::Duration::from_millis(500),
        )
        .await;
        let asked = requests(h, "GET", |p| p == path).await?;
        assert_eq!(asked.len(), 1, "the question not answered yet: {asked:?}");
        assert!(
            attr_is(h, "#connection-status", "data-state", "reconnecting").await?,
            "shown as: {:?}",
            h.texts("#connection-status").await?
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A tab left hidden (the operator in another tool, waiting for notifications) whose stream dies
/// without a word: it is opened afresh all the same, and what it missed comes in, where it was
/// only checked once the tab was shown again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_tabs_silent_stream_is_opened_afresh() {
    with_harness(Options::default(), async |h: &Harness| {
        let a = open_with_stream_fault(h, json!({ "stall_stream": true, "count": 1 })).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        set_hidden(h, true).await?;
        let missed = "Sent while the connection was dead, tab hidden";
        said_through_a_dead_stream(h, &a, missed).await?;
        shift_clock(h, 121000).await?;
        let brought = wait_message(h, missed, "brought while hidden", |m| m.id.is_some()).await;
        restore_clock(h).await?;
        brought?;
        streaming_again(h, &a).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A stream that keeps failing to come back is said to be reconnecting once: the indicator is a
/// live region, and each attempt changed its words ("Reconnecting…", "Connecting…", then
/// "Connection lost" again), each read out as news.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_said_once_however_many_attempts_it_takes() {
    with_harness(Options::default(), async |h: &Harness| {
        let a = open_with_stream_fault(h, json!({ "drop_stream_after": 1, "count": 1 })).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        // The words a screen reader is given (the seconds counting down are hidden from it),
        // each time they change.
        h.browser()
            .execute(
                "const el = document.getElementById('connection-status');
                 const words = () => [...el.childNodes]
                   .filter(n => !(n.nodeType === 1 && n.getAttribute('aria-hidden') === 'true'))
                   .map(n => n.textContent).join('');
                 window.__said = [words()];
                 new MutationObserver(() => {
                   const w = words();
                   if (w !== window.__said[window.__said.length - 1]) window.__said.push(w);
                 }).observe(el, { characterData: true, childList: true, subtree: true });",
                vec![],
            )
            .await?;
        fault(
            h,
            json!({ "route": stream_route(&a), "stream_status": 503 }),
        )
        .await?;
        clear_requests(h).await?;
        inject(h, &a, "The last word before the drop").await?;
        let path = format!("/v1/conversations/{a}/stream");
        poll_until("three attempts refused", RECONNECT, || async {
            let asked = requests(h, "GET", |p| p == path).await?;
            Ok((asked.len() >= 6).then_some(()))
        })
        .await?;
        let said = h.browser().execute("return window.__said;", vec![]).await?;
        assert_eq!(said, json!(["Live", "Connection lost; reconnecting"]));
        assert_no_crash(h).await
    })
    .await;
}

/// A stream that does not open (its request held by a proxy, or sent on a dead connection) is
/// given up after a while and opened again, instead of showing "Connecting…" for as long as the
/// browser waits on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_does_not_open_is_tried_again() {
    with_harness(Options::default(), async |h: &Harness| {
        let a = open_with_stream_fault(h, json!({ "latency_ms": 120000, "count": 1 })).await?;
        settle(
            "the stream's request held",
            std::time::Duration::from_secs(1),
        )
        .await;
        assert!(attr_is(h, "#connection-status", "data-state", "connecting").await?);
        // Twenty seconds on.
        shift_clock(h, 21000).await?;
        let live = wait_live_again(h).await;
        restore_clock(h).await?;
        live?;
        let said = "Through the stream opened again";
        inject(h, &a, said).await?;
        wait_message(h, said, "live", |m| m.id.is_some()).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A stream refused for the workspace's rate limit comes back when `Retry-After` says, not at
/// the backoff's pace: its requests share the budget the rest of the console needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_stream_waits_as_told() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let a = row_ids(h)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("no conversation listed"))?;
        fault(
            h,
            json!({ "route": stream_route(&a), "force_429_retry_after": 4, "count": 50 }),
        )
        .await?;
        clear_requests(h).await?;
        h.click(&format!("{ROW}[data-conversation-id='{a}'] a"))
            .await?;
        wait_thread(h, &a).await?;
        // Named for what it is: the connection is fine, and the wait is the server's.
        wait_attr(h, "#connection-status", "data-state", "rate-limited").await?;
        let said = h.texts("#connection-status").await?.join("");
        assert!(said.contains("rate limit"), "the indicator says: {said}");
        // (While the rate limit holds.)
        record_states(h).await?;
        // The stream and its probe, then the wait asked for, 4 s, before it is asked again.
        let path = format!("/v1/conversations/{a}/stream");
        let streams = poll_until("the stream asked for again", RECONNECT, || async {
            let asked = requests(h, "GET", |p| p == path).await?;
            Ok((asked.len() >= 3).then_some(asked))
        })
        .await?;
        let waited = streams[2].at_ms()? - streams[1].at_ms()?;
        assert!(
            waited >= 3_900,
            "asked again {waited} ms after the probe's 429, not after its Retry-After: {streams:?}"
        );
        // Asked again, and refused again, in the same words: not as a lost connection.
        settle("the attempt refused", std::time::Duration::from_millis(500)).await;
        let states = states_shown(h).await?;
        assert!(
            states
                .as_array()
                .is_some_and(|s| !s.is_empty() && s.iter().all(|s| s == "rate-limited")),
            "the attempts say they wait on the rate limit: {states}"
        );
        clear_faults(h).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A stream held by a rate limit for minutes (a gateway that caps streams alone, the rest of
/// the API answering): the thread is refreshed meanwhile, as without the stream, so what the
/// customer says still shows. It stood still until the wait ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_held_by_the_rate_limit_still_brings_the_news() {
    with_harness(Options::default(), async |h: &Harness| {
        let a =
            open_with_stream_fault(h, json!({ "force_429_retry_after": 300, "count": 2 })).await?;
        wait_attr(h, "#connection-status", "data-state", "rate-limited").await?;
        let said = "Said while the stream was held";
        inject(h, &a, said).await?;
        poll_until(
            "the news, by a refresh",
            std::time::Duration::from_secs(25),
            || async { Ok((!shown_with_body(h, said).await?.is_empty()).then_some(())) },
        )
        .await?;
        wait_attr(h, "#connection-status", "data-state", "rate-limited").await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A stream whose host cannot be reached at all (a connection refused, where the API answers):
/// the browser keeps such a source "connecting", and the thread is refreshed meanwhile, as for a
/// stream refused with a status, so what the customer says still shows. It stood still.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_cannot_be_reached_still_brings_the_news() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let mut open = None;
        for id in row_ids(h).await? {
            if api_conversation(h, &id).await?["ai_mode"] != "closed" {
                open = Some(id);
                break;
            }
        }
        let id = open.ok_or_else(|| anyhow!("no open conversation among the rows"))?;
        // Every stream to a port nothing listens on, in this page (opened from its row, not
        // from its address, which would load the page again).
        h.browser()
            .execute(
                "const Real = window.EventSource;
                 window.EventSource = class extends Real {
                   constructor(url, init) {
                     super(url.includes('/stream') ? 'http://127.0.0.1:9/stream' : url, init);
                   }
                 };",
                vec![],
            )
            .await?;
        h.click(&format!("{ROW}[data-conversation-id='{id}'] a"))
            .await?;
        wait_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "reconnecting").await?;
        inject(h, &id, "Said while the stream was out of reach").await?;
        poll_until(
            "the news, by a refresh",
            std::time::Duration::from_secs(45),
            || async {
                Ok(
                    (!shown_with_body(h, "Said while the stream was out of reach")
                        .await?
                        .is_empty())
                    .then_some(()),
                )
            },
        )
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A stream refused for the workspace's billing (by a terminal frame, as API.md's convention
/// has it, or by a 402) says so and waits minutes before it asks again; one refused for a bad
/// request (400) stops, and the thread is then refreshed on a timer, so what the customer writes
/// still shows. Each was asked for again every few seconds, "Connection lost", for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_refused_for_billing_or_a_bad_request_is_not_asked_for_again_at_once() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let ids = row_ids(h).await?;
        let [a, b, c, ..] = ids.as_slice() else {
            return Err(anyhow!("need three conversations, got {ids:?}"));
        };
        let refusals = [
            (
                a,
                json!({ "stream_error_frame": "QUOTA_EXCEEDED" }),
                "billing",
                1,
            ),
            (b, json!({ "stream_status": 402 }), "billing", 2),
            (c, json!({ "stream_status": 400 }), "stopped", 2),
        ];
        for (id, refusal, state, asked) in refusals {
            let mut spec = refusal.clone();
            spec["route"] = json!(stream_route(id));
            fault(h, spec).await?;
            clear_requests(h).await?;
            h.click(&format!("{ROW}[data-conversation-id='{id}'] a"))
                .await?;
            wait_thread(h, id).await?;
            wait_attr(h, "#connection-status", "data-state", state).await?;
            if state == "billing" {
                let said = h.texts("#connection-status").await?.join("");
                assert!(said.contains("billing"), "the indicator says why: {said}");
            }
            settle(
                "a reconnect, were there one",
                std::time::Duration::from_secs(6),
            )
            .await;
            let path = format!("/v1/conversations/{id}/stream");
            let streams = requests(h, "GET", |p| p == path).await?.len();
            assert_eq!(streams, asked, "{refusal}: the stream (and its probe) only");
            if state == "stopped" {
                // (Within the 15 s between refreshes, 6 s of which have gone.)
                let body = "Written while the stream was refused";
                inject(h, id, body).await?;
                wait_message(h, body, "brought by a refresh", |m| m.id.is_some()).await?;
            }
        }
        assert_no_crash(h).await
    })
    .await;
}

/// A stream refused without CORS headers (a gateway in front of the API that adds none), on an
/// API of another origin than the page: the console cannot read why it fails, and kept trying
/// with the thread standing still. It still tries, and brings the thread's news as it does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_refused_unreadably_still_brings_the_news() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        // The same simulator under the other name for this machine: another origin.
        let api = format!("{}/v1", h.base_url().replace("127.0.0.1", "localhost"));
        h.open("/").await?;
        poll_until("the base URL from config.json", FIRST_SCREEN, || async {
            let v = h
                .browser()
                .execute(
                    "return document.getElementById('api-base-url')?.value;",
                    vec![],
                )
                .await?;
            Ok(v.as_str().is_some_and(|v| !v.is_empty()).then_some(()))
        })
        .await?;
        h.fill("#api-base-url", &api).await?;
        h.connect(voicebip_e2e::DEMO_KEY).await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}/stream", "stream_status": 401, "omit_cors": true }),
        )
        .await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "reconnecting").await?;
        inject(h, &id, "Anyone behind that gateway?").await?;
        // (Refreshed as often as without the stream: every 15 s, at the stream's next try.)
        wait_refreshed(h, "Anyone behind that gateway?", RECONNECT).await?;
        assert_stream_refused_throughout(h, 401).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// With the stream refused and the thread refreshed on a timer, a customer's message that a
/// refresh brings is heard, as the stream's would be: also when the operator replied after it,
/// before that refresh (it lay below the reply, where a refresh's news was taken as old).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_without_the_stream_is_heard_past_a_reply() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        fault(
            h,
            json!({ "route": stream_route(&id), "stream_status": 401 }),
        )
        .await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "polling").await?;
        // Just after a refresh, so that the next one comes after the reply.
        clear_requests(h).await?;
        poll_until("a refresh", RECONNECT, || async {
            Ok((!newest_page_requests(h, &id).await?.is_empty()).then_some(()))
        })
        .await?;
        let asked = "Is anyone reading this?";
        // No refresh brings the customer's message before the reply is sent: then it would lie
        // above the reply, and be heard without the fix.
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}", "status": 503 }),
        )
        .await?;
        inject(h, &id, asked).await?;
        h.wait_for("#composer-text:not([readonly])", SCREEN)
            .await?
            .send_keys("On it")
            .await?;
        h.press(&[Key::Enter.into()]).await?;
        wait_message(h, "On it", "sent", |m| m.id.is_some()).await?;
        clear_faults(h).await?;
        poll_until("the customer's message, refreshed", RECONNECT, || async {
            Ok((!shown_with_body(h, asked).await?.is_empty()).then_some(()))
        })
        .await?;
        wait_text(h, "#live-announcer", asked, SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A customer's STOP, and their START, are said as well as shown: the message is heard, but not
/// that replies to the number are refused from then on, or no longer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_and_an_opt_in_are_said() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_live(h, "human", "sms").await?;
        inject(h, &id, "STOP").await?;
        h.wait_for("#opt-out-banner", SCREEN).await?;
        wait_text(h, "#live-announcer", "has opted out", SCREEN).await?;
        // (Not within a moment of the STOP: announcements that close together are said
        // together, a few at most.)
        settle("a while later", std::time::Duration::from_millis(500)).await;
        inject(h, &id, "START").await?;
        wait_gone(h, "#opt-out-banner", SCREEN).await?;
        wait_text(h, "#live-announcer", "opted back in", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A stream whose endpoint keeps failing with an answer the page can read (a server error, or a
/// gateway's page that is not a stream) while the rest of the API answers: the thread is
/// refreshed as without the stream, so what the customer writes still shows. It stood still
/// for as long as the stream failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_keeps_failing_still_brings_the_news() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        open_with_stream_refused(h, &id, 503, "reconnecting").await?;
        let said = "Anyone there while the updates are down?";
        inject(h, &id, said).await?;
        // (Refreshed as often as without the stream: every 15 s, at the stream's next try.)
        wait_refreshed(h, said, std::time::Duration::from_secs(45)).await?;
        assert_stream_refused_throughout(h, 503).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// With the stream refused for good and the thread refreshed on a timer, a hidden tab keeps
/// refreshing, as the stream it stands in for would have brought the news: a customer's message
/// there is what a notification is for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_tab_without_the_stream_still_refreshes() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        open_with_stream_refused(h, &id, 400, "stopped").await?;
        set_hidden(h, true).await?;
        let said = "Still there, in the other tab?";
        inject(h, &id, said).await?;
        wait_refreshed(h, said, std::time::Duration::from_secs(40)).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A stream waiting out a rate limit's `Retry-After` is not asked for again when the browser
/// goes offline and comes back meanwhile: the server's wait still holds, and another request
/// would only be refused, on the workspace's shared budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coming_back_online_keeps_a_rate_limits_wait() {
    with_harness(Options::default(), async |h: &Harness| {
        // The stream and its probe refused; the next request would be served.
        let a =
            open_with_stream_fault(h, json!({ "force_429_retry_after": 30, "count": 2 })).await?;
        wait_attr(h, "#connection-status", "data-state", "rate-limited").await?;
        let path = format!("/v1/conversations/{a}/stream");
        let refused = poll_until("the stream and its probe refused", SCREEN, || async {
            let asked = requests(h, "GET", |p| p == path).await?;
            Ok((asked.len() >= 2).then_some(asked.len()))
        })
        .await?;
        set_online(h, false).await?;
        wait_attr(h, "#connection-status", "data-state", "offline").await?;
        set_online(h, true).await?;
        // Back to the wait, still counting down, and nothing asked meanwhile.
        wait_attr(h, "#connection-status", "data-state", "rate-limited").await?;
        settle(
            "no request before the wait ends",
            std::time::Duration::from_secs(3),
        )
        .await;
        let asked = requests(h, "GET", |p| p == path).await?;
        assert_eq!(
            asked.len(),
            refused,
            "asked again before the wait ended: {asked:?}"
        );
        let said = h.texts("#connection-status").await?.join("");
        assert!(said.contains("rate limit"), "the indicator says: {said}");
        assert_no_crash(h).await
    })
    .await;
}

/// A stream whose request is held (a buffering proxy) while the rest of the API answers: each
/// try given up brings a refresh of the thread, so what the customer writes still shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_held_unopened_still_brings_the_news() {
    with_harness(Options::default(), async |h: &Harness| {
        let a = open_with_stream_fault(h, json!({ "latency_ms": 120000 })).await?;
        settle(
            "the stream's request held",
            std::time::Duration::from_secs(1),
        )
        .await;
        assert!(attr_is(h, "#connection-status", "data-state", "connecting").await?);
        let said = "Hello from behind the proxy";
        inject(h, &a, said).await?;
        // Twenty seconds on: the try is given up.
        shift_clock(h, 21000).await?;
        let shown = poll_until("the message, refreshed", SCREEN, || async {
            Ok((!shown_with_body(h, said).await?.is_empty()).then_some(()))
        })
        .await;
        restore_clock(h).await?;
        shown?;
        assert_no_crash(h).await
    })
    .await;
}

/// A stream whose frames keep coming unreadable (a gateway mangling them) is said to be so,
/// where it looked live while news came only by the refreshes those frames brought; the first
/// frame read again takes the notice down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_that_keep_coming_unreadable_are_said_to() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        // Every stream sends one frame that is no JSON, and ends.
        fault(
            h,
            json!({ "route": stream_route(&id), "malformed_frame": true, "drop_stream_after": 1 }),
        )
        .await?;
        open_thread(h, &id).await?;
        h.wait_for("#frames-unread", RECONNECT).await?;
        wait_text(h, "#live-announcer", "cannot be read", SCREEN).await?;

        clear_faults(h).await?;
        // (Written until one arrives by the stream: the first may come by the refetch of the
        // reconnection, or to a stream still under the fault.)
        poll_until(
            "the notice down once a frame is read",
            RECONNECT,
            || async {
                inject(h, &id, "Readable again").await?;
                settle("the frame read", std::time::Duration::from_millis(700)).await;
                Ok((count(h, "#frames-unread").await? == 0).then_some(()))
            },
        )
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The console's pages see a clock two minutes behind the simulator's (`Date` and `Date.now`;
/// `window.__realNow()` reads the real one): what the console shows by its own clock comes two
/// minutes after the server's word.
const CLOCK_BEHIND: &str = "(() => {
  const Real = Date;
  const skew = -120000;
  window.__realNow = () => Real.now();
  function Behind(...args) {
    if (!new.target) return new Real(Real.now() + skew).toString();
    return args.length ? new Real(...args) : new Real(Real.now() + skew);
  }
  Behind.prototype = Real.prototype;
  Behind.now = () => Real.now() + skew;
  Behind.parse = Real.parse;
  Behind.UTC = Real.UTC;
  window.Date = Behind;
})();";

/// The window's last hour is shown and said once, as the server's `window.closing` comes: the
/// console's clock, here two minutes behind, is not in that hour yet, and the warning,
/// inserted with its words, was left unread by some screen readers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_windows_last_hour_is_said_once_as_the_server_warns_of_it() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "whatsapp").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        // (From the next page on: the window is set by the real clock, read here.)
        h.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": CLOCK_BEHIND }),
        )
        .await?;
        // An hour and 20 s on by the browser's clock, which the console reads: the server
        // warns in 20 s, with the thread open.
        let end = h
            .browser()
            .execute("return Date.now() + 3_620_000;", vec![])
            .await?
            .as_f64()
            .context("the browser's time")?;
        let end_iso = h
            .browser()
            .execute(
                "return new Date(arguments[0]).toISOString();",
                vec![json!(end)],
            )
            .await?;
        h.sim_post(
            &format!("/sim/conversations/{id}/window"),
            &json!({ "expires_at": end_iso }),
        )
        .await?;
        open_thread_live(h, &id).await?;
        h.wait_for("#composer-text", SCREEN).await?;
        record_said(h).await?;
        assert_eq!(count(h, "#window-closing").await?, 0, "not yet");
        h.browser()
            .execute(
                "window.__warned = null;
                 new MutationObserver(() => {
                   if (window.__warned === null && document.getElementById('window-closing'))
                     window.__warned = window.__realNow();
                 }).observe(document.body, { childList: true, subtree: true });",
                vec![],
            )
            .await?;
        h.wait_for("#window-closing", std::time::Duration::from_secs(40))
            .await?;
        // Within a moment of the hour's start (the simulator checks its windows each second),
        // where the console's clock is two minutes from it.
        let warned = h
            .browser()
            .execute("return window.__warned;", vec![])
            .await?
            .as_f64()
            .context("when the warning showed")?;
        let late = warned - (end - 3_600_000.0);
        assert!(
            (0.0..3_500.0).contains(&late),
            "shown {late} ms after the last hour began"
        );
        // The window's badge says so too, not "open" by the clock behind.
        wait_attr(h, ".thread-header .window-state", "data-window", "closing").await?;
        let warning = "closes within the hour";
        poll_until("the warning said", SCREEN, || async {
            Ok((!said_since(h, warning).await?.is_empty()).then_some(()))
        })
        .await?;
        settle("no second saying", std::time::Duration::from_secs(2)).await;
        let said = said_since(h, warning).await?;
        assert_eq!(said.len(), 1, "said once: {said:?}");
        assert_no_crash(h).await
    })
    .await;
}
