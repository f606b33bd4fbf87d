//! Reading one conversation: its newest page in order, older pages on scrolling up without the
//! view jumping, and customer text shown as text, never as markup.

use crate::common::*;
use serde_json::{json, Value};
use std::time::Duration;
use voicebip_e2e::anyhow::{anyhow, Result};
use voicebip_e2e::{poll_until, with_harness, Harness, Key, Options, SeedSize, DEMO_KEY};

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

fn api_ids_oldest_first(conversation: &Value) -> Result<Vec<String>> {
    let mut ids = conversation["messages"]
        .as_array()
        .ok_or_else(|| anyhow!("no messages in {conversation}"))?
        .iter()
        .map(|m| str_field(m, "message_id"))
        .collect::<Result<Vec<_>>>()?;
    ids.reverse();
    Ok(ids)
}

/// Whether the messages are scrolled down to the newest (within 2 px).
async fn at_bottom(h: &Harness) -> Result<bool> {
    let v = h
        .browser()
        .execute(
            "const s = document.querySelector('.message-scroller');
             return s.scrollHeight - s.clientHeight - s.scrollTop <= 2;",
            vec![],
        )
        .await?;
    Ok(v == json!(true))
}

/// The top of message `id` relative to the viewport, in px.
async fn top_of(h: &Harness, id: &str) -> Result<f64> {
    let v = h
        .browser()
        .execute(
            "const e = document.querySelector(`li.message[data-message-id='${arguments[0]}']`);
             return e ? e.getBoundingClientRect().top : null;",
            vec![json!(id)],
        )
        .await?;
    v.as_f64()
        .ok_or_else(|| anyhow!("message {id} is not in the DOM"))
}

/// A simulator with the large seed (a 5,000-message thread).
fn large() -> Options {
    let mut opts = Options::default();
    opts.sim.size = SeedSize::Large;
    opts
}

/// Signs in and opens the 5,000-message thread; returns its id.
async fn open_big_thread(h: &Harness) -> Result<String> {
    let info = h.sim_get("/sim/info").await?;
    let big = str_field(&info, "big_thread_id")?;
    sign_in(h).await?;
    open_thread(h, &big).await?;
    Ok(big)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newest_page_in_order_older_pages_without_a_jump_and_text_stays_text() {
    with_harness(large(), async |h: &Harness| {
        let big = open_big_thread(h).await?;

        // The newest page (50), oldest at the top, exactly the API's.
        let api = api_conversation(h, &big).await?;
        let expected = api_ids_oldest_first(&api)?;
        assert_eq!(expected.len(), 50);
        let shown = poll_until("the newest page of messages", SCREEN, || async {
            let ids: Vec<String> = shown_messages(h)
                .await?
                .into_iter()
                .filter_map(|m| m.id)
                .collect();
            Ok((ids.len() >= expected.len()).then_some(ids))
        })
        .await?;
        assert_eq!(shown, expected, "the newest 50 messages, oldest first");
        h.wait_for("#load-older", SCREEN).await?;
        for (m, api_m) in shown_messages(h)
            .await?
            .iter()
            .zip(api["messages"].as_array().into_iter().flatten().rev())
        {
            assert_eq!(m.body, api_m["body"].as_str().unwrap_or_default());
            assert_eq!(m.direction.as_deref(), api_m["direction"].as_str());
            assert_eq!(m.status.as_deref(), api_m["status"].as_str());
        }

        // Markup from a customer is text: no element is created and no script runs.
        h.browser()
            .execute("window.__alerts = 0; window.alert = () => { window.__alerts += 1; };", vec![])
            .await?;
        let injected = inject(h, &big, HOSTILE).await?;
        let id = str_field(&injected, "message_id")?;
        let m = wait_message(h, HOSTILE, "shown", |m| m.id.as_deref() == Some(id.as_str())).await?;
        assert_eq!(m.direction.as_deref(), Some("inbound"));
        assert_eq!(count(h, "ol#messages img").await?, 0, "no <img> was created");
        // Text and nothing else: no element inside the body (markers the renderer leaves as
        // comments are not elements), and the markup reads back as the characters it was.
        let body = h
            .browser()
            .execute(
                "const b = document.querySelector(`li.message[data-message-id='${arguments[0]}'] .message-body`); \
                 return [b.children.length, b.textContent];",
                vec![json!(id)],
            )
            .await?;
        assert_eq!(body, json!([0, HOSTILE]), "the body is escaped text");
        wait_text(h, "#live-announcer", HOSTILE, SCREEN).await?;
        let politeness = h.attrs("#live-announcer", "aria-live").await?;
        assert_eq!(politeness, [Some("polite".to_string())]);
        let alerts = h.browser().execute("return window.__alerts;", vec![]).await?;
        assert_eq!(alerts, json!(0), "no script from the message ran");

        // Scrolling to the top loads the previous page above, and the message that was first
        // stays where it was on screen.
        let before = shown_messages(h).await?.len();
        let anchor = expected[0].clone();
        let top_before = h
            .browser()
            .execute(
                "const s = document.querySelector('.message-scroller');
                 s.scrollTop = 0;
                 const e = document.querySelector(`li.message[data-message-id='${arguments[0]}']`);
                 return e.getBoundingClientRect().top;",
                vec![json!(anchor)],
            )
            .await?
            .as_f64()
            .ok_or_else(|| anyhow!("no top for the first message"))?;
        poll_until("an older page above", SCREEN, || async {
            Ok((shown_messages(h).await?.len() >= before + 50).then_some(()))
        })
        .await?;
        // Let the page settle its scroll position, then measure.
        let top_after = poll_until("the view to settle", SCREEN, || async {
            let a = top_of(h, &anchor).await?;
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            let b = top_of(h, &anchor).await?;
            Ok(((a - b).abs() < 0.5).then_some(b))
        })
        .await?;
        assert!(
            (top_after - top_before).abs() <= 4.0,
            "the previously first message moved from {top_before}px to {top_after}px"
        );
        let in_view = h
            .browser()
            .execute(
                "const s = document.querySelector('.message-scroller').getBoundingClientRect();
                 const e = document.querySelector(`li.message[data-message-id='${arguments[0]}']`).getBoundingClientRect();
                 return e.top >= s.top - 1 && e.top < s.bottom;",
                vec![json!(anchor)],
            )
            .await?;
        assert_eq!(in_view, json!(true), "the previously first message is still visible");

        // The older page is the API's next page, in order, above the first one.
        let token = str_field(&api, "next_page_token")?;
        let older = h
            .api_get(
                &format!("/conversations/{big}?page_size=50&page_token={token}"),
                voicebip_e2e::DEMO_KEY,
            )
            .await?;
        let mut want = api_ids_oldest_first(&older)?;
        want.extend(expected.iter().cloned());
        let ids: Vec<String> = shown_messages(h)
            .await?
            .into_iter()
            .filter_map(|m| m.id)
            .take(want.len())
            .collect();
        assert_eq!(ids, want, "older page prepended in order");
        assert_no_crash(h).await
    })
    .await;
}

/// Lines the console keeps in the DOM at most (`model::thread_lines::WINDOW`).
const WINDOW: usize = 150;

/// Signs in and opens a conversation the operator has taken over, once its customer has
/// written `n` messages more into it, and its stream is live: its id.
async fn open_human_thread_of(h: &Harness, n: usize) -> Result<String> {
    let conv = reachable(h, "human", "sms").await?;
    let id = str_field(&conv, "conversation_id")?;
    for k in 0..n {
        inject(h, &id, &format!("Message {k} of a long exchange")).await?;
    }
    sign_in(h).await?;
    open_thread_live(h, &id).await?;
    Ok(id)
}

/// A thread short enough to be rendered whole: a message that comes while the operator reads
/// back is not pulled into view, and the way down says it is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_below_a_short_thread_read_back_is_said_by_the_way_down() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_thread_of(h, 25).await?;
        let scroll_to = |top: &str| {
            format!(
                "const s = document.querySelector('.message-scroller'); s.scrollTop = {top};
                 return s.scrollHeight > s.clientHeight + 200;"
            )
        };
        let scrolls = h.browser().execute(&scroll_to("0"), vec![]).await?;
        assert_eq!(scrolls, json!(true), "a thread taller than its view");
        settle("the scroll ended", Duration::from_millis(400)).await;
        assert_eq!(count(h, "#jump-newest").await?, 0, "nothing below yet");
        inject(h, &id, "Are you reading this?").await?;
        wait_text(h, "#live-announcer", "Are you reading this?", SCREEN).await?;
        h.wait_for("#jump-newest", SCREEN).await?;
        h.click("#jump-newest").await?;
        wait_gone(h, "#jump-newest", SCREEN).await?;
        assert!(at_bottom(h).await?, "taken down to the newest");
        // Scrolled up and back down by hand: nothing left below.
        h.browser().execute(&scroll_to("0"), vec![]).await?;
        settle("the scroll ended", Duration::from_millis(400)).await;
        h.browser()
            .execute(&scroll_to("s.scrollHeight"), vec![])
            .await?;
        settle("the scroll ended", Duration::from_millis(400)).await;
        assert_eq!(count(h, "#jump-newest").await?, 0);
        assert_no_crash(h).await
    })
    .await;
}

async fn first_shown(h: &Harness) -> Result<Option<String>> {
    Ok(shown_messages(h).await?.into_iter().find_map(|m| m.id))
}

async fn focused_id(h: &Harness) -> Result<Value> {
    h.browser()
        .execute(
            "const e = document.activeElement; return e.id || e.className;",
            vec![],
        )
        .await
        .map_err(Into::into)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_far_back_by_keyboard_keeps_the_dom_small_and_the_newest_a_button_away() {
    with_harness(large(), async |h: &Harness| {
        let big = open_big_thread(h).await?;
        poll_until("the newest page", SCREEN, || async {
            Ok((shown_messages(h).await?.len() >= 50).then_some(()))
        })
        .await?;
        h.browser()
            .execute(
                "document.querySelector('.message-scroller').focus();",
                vec![],
            )
            .await?;

        // Home, again and again: older pages load above, then the window of lines moves up
        // through them; the DOM never holds more than the window.
        let mut first = first_shown(h).await?;
        for step in 0..8 {
            h.press(&[Key::Home.into()]).await?;
            first = poll_until(
                &format!("older lines above, Home #{step}"),
                SCREEN,
                || async {
                    let now = first_shown(h).await?;
                    Ok((now != first).then_some(now))
                },
            )
            .await?;
            let shown = count(h, "ol#messages > li.message").await?;
            assert!(
                shown <= WINDOW,
                "{shown} messages in the DOM after Home #{step}"
            );
        }

        // End, then Home: the window moves down through the loaded lines and back up to them,
        // without asking the API again.
        let top_lines = first.clone();
        h.press(&[Key::End.into()]).await?;
        poll_until("the window to move down", SCREEN, || async {
            let now = first_shown(h).await?;
            Ok((now != top_lines).then_some(()))
        })
        .await?;
        clear_requests(h).await?;
        h.press(&[Key::Home.into()]).await?;
        poll_until(
            "the window back at the oldest loaded lines",
            SCREEN,
            || async { Ok((first_shown(h).await? == top_lines).then_some(())) },
        )
        .await?;
        let thread_path = format!("/v1/conversations/{big}");
        let fetched = requests(h, "GET", |p| p == thread_path).await?;
        assert!(
            fetched.is_empty(),
            "lines already loaded came from memory: {fetched:?}"
        );

        // A message arriving meanwhile does not pull the operator down, and is not rendered.
        let injected = inject(h, &big, "while you were reading").await?;
        let id = str_field(&injected, "message_id")?;
        // (Arrived: it is announced.)
        wait_text(h, "#live-announcer", "while you were reading", SCREEN).await?;
        settle(
            "its lines rendered, were they",
            std::time::Duration::from_millis(300),
        )
        .await;
        assert!(
            shown_messages(h)
                .await?
                .iter()
                .all(|m| m.id.as_deref() != Some(id.as_str())),
            "the new message is not rendered while the operator reads far back"
        );
        assert_eq!(first_shown(h).await?, first, "the view did not move");

        // Two Tabs from the history (past "Load older messages") reach the way back down.
        h.press(&[Key::Tab.into()]).await?;
        h.press(&[Key::Tab.into()]).await?;
        assert_eq!(focused_id(h).await?, json!("jump-newest"));
        h.press(&[Key::Enter.into()]).await?;
        let last = poll_until("the newest message at the bottom", SCREEN, || async {
            let shown = shown_messages(h).await?;
            Ok(shown
                .last()
                .filter(|m| m.id.as_deref() == Some(id.as_str()))
                .cloned())
        })
        .await?;
        assert_eq!(last.body, "while you were reading");
        assert!(at_bottom(h).await?, "scrolled to the newest");
        assert_eq!(
            focused_id(h).await?,
            json!("message-scroller"),
            "focus stays in the thread"
        );
        assert!(count(h, "#jump-newest").await? == 0);
        assert_no_crash(h).await
    })
    .await;
}

/// Home at the very top, where an older page failed to load, asks for it again: there, Home
/// scrolls nothing, and no scroll event came to ask.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_at_the_top_asks_again_for_a_page_that_failed() {
    with_harness(large(), async |h: &Harness| {
        open_big_thread(h).await?;
        poll_until("the newest page", SCREEN, || async {
            Ok((shown_messages(h).await?.len() >= 50).then_some(()))
        })
        .await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}", "status": 503 }),
        )
        .await?;
        let focus_history = "document.querySelector('.message-scroller').focus();";
        h.browser().execute(focus_history, vec![]).await?;
        let first = first_shown(h).await?;
        h.press(&[Key::Home.into()]).await?;
        wait_text(h, "#action-error", "503", Duration::from_secs(30)).await?;
        clear_faults(h).await?;

        h.browser().execute(focus_history, vec![]).await?;
        let top = h
            .browser()
            .execute(
                "return document.querySelector('.message-scroller').scrollTop;",
                vec![],
            )
            .await?;
        assert_eq!(top, json!(0), "the history is at its top");
        assert_eq!(first_shown(h).await?, first, "nothing older came");
        h.press(&[Key::Home.into()]).await?;
        poll_until("the older page", SCREEN, || async {
            let now = first_shown(h).await?;
            Ok((now != first).then_some(()))
        })
        .await?;
        wait_gone(h, "#action-error", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The older pages' token refused (a 410, as for a token expired in a thread kept open for
/// hours): the older page is still brought, the pages walked again from the newest, where each
/// Try again sent the refused token again, and failed, for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_page_whose_token_is_refused_still_comes() {
    with_harness(Options::default(), async |h: &Harness| {
        // (Once the stream's first refetch is in.)
        let id = open_human_thread_of(h, 60).await?;
        h.wait_for("#load-older", SCREEN).await?;
        // (Asked before the log is cleared, and before the fault: the test's own reads are
        // logged too.)
        let mut expected = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let query = token.map_or(String::new(), |t| format!("&page_token={t}"));
            let page = h
                .api_get(
                    &format!("/conversations/{id}?page_size=100{query}"),
                    DEMO_KEY,
                )
                .await?;
            expected.extend(api_ids_oldest_first(&page)?.into_iter().rev());
            token = page["next_page_token"].as_str().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        expected.reverse();
        fault(
            h,
            json!({ "route": format!("GET /v1/conversations/{id}"), "status": 410,
                    "query_contains": "page_token", "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        // Scrolled to the top, as the operator reads back.
        h.browser()
            .execute(
                "document.querySelector('.message-scroller').scrollTop = 0;",
                vec![],
            )
            .await?;
        poll_until("the older messages", SCREEN, || async {
            let ids: Vec<String> = shown_messages(h)
                .await?
                .into_iter()
                .filter_map(|m| m.id)
                .collect();
            Ok((ids == expected).then_some(()))
        })
        .await?;
        assert_eq!(count(h, "#action-error").await?, 0, "no failure left shown");
        // Walked again from the newest: not the refused token asked for again first.
        let path = format!("/v1/conversations/{id}");
        let asked: Vec<(bool, u16)> = requests(h, "GET", |p| p == path)
            .await?
            .iter()
            .map(|r| {
                let token = r.query.as_deref().unwrap_or("").contains("page_token");
                (token, r.status)
            })
            .collect();
        // (A refresh of the newest page may come before or between: the stream's, say.)
        let older: Vec<&(bool, u16)> = asked.iter().filter(|a| a.0).collect();
        let refused = asked.iter().position(|a| *a == (true, 410));
        // The newest page asked for after the refusal, before the older page came.
        let walked = refused.is_some_and(|r| {
            (r + 1..asked.len().saturating_sub(1)).any(|i| asked[i] == (false, 200))
        });
        assert!(
            older.first() == Some(&&(true, 410)) && asked.last() == Some(&(true, 200)) && walked,
            "{asked:?}"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A conversation that cannot be opened (refused: another workspace's, say) from a link, on a
/// narrow screen where the list is hidden behind it: a way back to the list, which Try again,
/// refused the same way each time, is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_that_cannot_be_opened_leads_back_to_the_list() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "ai", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        h.browser().set_window_size(420, 800).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}", "status": 403 }),
        )
        .await?;
        h.open(&format!("/conversations/{id}")).await?;
        h.wait_for("#thread-error", FIRST_SCREEN).await?;
        h.click(".back-link").await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        // Read in one script: the list may render its rows again meanwhile (a refresh), and a
        // row found by one command would be gone by the next.
        poll_until("the list shown", SCREEN, || async {
            let shown = h
                .browser()
                .execute(
                    "return [...document.querySelectorAll(arguments[0])]
                       .some(r => r.offsetParent !== null && r.getClientRects().length > 0);",
                    vec![json!(ROW)],
                )
                .await?;
            Ok((shown == json!(true)).then_some(()))
        })
        .await?;
        h.browser().set_window_size(1280, 900).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A WhatsApp file shows what it is and its caption (the caption, the file's only text, was
/// dropped: "[Image]" alone), with a link that opens the file apart from the console. (That
/// only a web address is a link: `model::message`'s unit test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whatsapp_file_shows_its_caption_and_opens_from_a_link() {
    with_harness(Options::default(), async |h: &Harness| {
        let file = "https://files.example.com/invoice-1042.png";
        open_and_send_an_image(h, file, "Your invoice").await?;
        wait_message(h, "[Image] Your invoice", "shown with its caption", |_| {
            true
        })
        .await?;
        let links = h
            .browser()
            .execute(
                "return [...document.querySelectorAll('ol#messages a.media-link')]
                   .map(a => [a.getAttribute('href'), a.target, a.rel]);",
                vec![],
            )
            .await?;
        assert_eq!(
            links,
            json!([[file, "_blank", "noopener noreferrer"]]),
            "one link, to the file, opened apart"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// The role of the failure line of the operator's failed send: `alert` the first time it shows.
async fn failure_role(h: &Harness) -> Result<Value> {
    h.browser()
        .execute(
            "const e = document.querySelector('li.message.local .message-error');
             return e ? e.getAttribute('role') : 'none shown';",
            vec![],
        )
        .await
        .map_err(Into::into)
}

/// A failed send's failure is an alert once: the window of lines leaving the newest and coming
/// back (the operator reading older messages) showed it again as an alert, read out again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sends_alert_is_not_read_again_after_reading_back() {
    with_harness(large(), async |h: &Harness| {
        open_big_thread(h).await?;
        poll_until("the newest page", SCREEN, || async {
            Ok((shown_messages(h).await?.len() >= 50).then_some(()))
        })
        .await?;
        if count(h, "#take-over").await? > 0 {
            h.click("#take-over").await?;
        }
        h.wait_for("#composer-text:not([readonly])", SCREEN).await?;
        fault(
            h,
            json!({ "route": "POST /v1/messages", "status": 503, "count": 1 }),
        )
        .await?;
        h.fill("#composer-text", "Checking on your order").await?;
        h.press(&[Key::Enter.into()]).await?;
        poll_until("the failure, as an alert", SCREEN, || async {
            Ok((failure_role(h).await? == json!("alert")).then_some(()))
        })
        .await?;
        h.browser()
            .execute(
                "document.querySelector('.message-scroller').focus();",
                vec![],
            )
            .await?;
        // Home until the window has left the newest lines, and the send with them.
        poll_until(
            "the window away from the newest",
            Duration::from_secs(60),
            || async {
                h.press(&[Key::Home.into()]).await?;
                Ok((count(h, "li.message.local").await? == 0).then_some(()))
            },
        )
        .await?;
        h.press(&[Key::End.into()]).await?;
        poll_until("the send shown again", Duration::from_secs(60), || async {
            if count(h, "li.message.local").await? == 0 {
                h.press(&[Key::End.into()]).await?;
                return Ok(None);
            }
            Ok(Some(()))
        })
        .await?;
        assert_eq!(failure_role(h).await?, Value::Null, "said once");
        assert_no_crash(h).await
    })
    .await;
}
