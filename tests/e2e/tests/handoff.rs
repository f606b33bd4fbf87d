//! Who answers: take over, return to the AI, close. One intent is one PATCH and one audit row,
//! however fast or often the operator clicks; closing is confirmed and terminal.

use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use voicebip_e2e::anyhow::{anyhow, Context, Result};
use voicebip_e2e::{poll_until, with_harness, Harness, Key, Options, DEMO_KEY};

/// The console ignores handoff clicks for 800 ms after a change settles (its debounce); an
/// operator's next deliberate action comes after that.
const AFTER_DEBOUNCE: Duration = Duration::from_millis(1_200);

async fn patches(h: &Harness, id: &str) -> Result<usize> {
    let path = format!("/v1/conversations/{id}");
    Ok(requests(h, "PATCH", |p| p == path).await?.len())
}

async fn mode_lines(h: &Harness, to: &str) -> Result<usize> {
    count(
        h,
        &format!("ol#messages > li.mode-change[data-to-mode='{to}']"),
    )
    .await
}

/// Signs in and opens an SMS conversation the AI answers, with `patch_fault` (its fields, the
/// route added) set for the handoffs to come; its id.
async fn open_ai_sms_thread(h: &Harness, patch_fault: Option<Value>) -> Result<String> {
    let conv = reachable(h, "ai", "sms").await?;
    let id = str_field(&conv, "conversation_id")?;
    sign_in(h).await?;
    open_thread(h, &id).await?;
    wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
    if let Some(mut patch_fault) = patch_fault {
        patch_fault["route"] = json!("PATCH /v1/conversations/{id}");
        fault(h, patch_fault).await?;
    }
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_click_one_change_and_close_is_terminal() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "ai", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        let agent = str_field(&conv, "agent_id")?;
        let customer = str_field(&conv, "from_number")?;
        let history_before = audit(h, &id).await?;

        sign_in(h).await?;
        open_thread(h, &id).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        assert_eq!(count(h, "#return-to-ai").await?, 0, "no Return to AI while the AI answers");
        clear_requests(h).await?;

        // A fast double click on Take over (WebDriver clicks, milliseconds apart).
        h.click_rapidly("#take-over", 2).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        settle("no late second PATCH", AFTER_DEBOUNCE).await;
        assert_eq!(patches(h, &id).await?, 1, "a double click sends one PATCH");
        assert!(
            attr_is(h, ".ai-mode-badge", "data-mode", "human").await?,
            "the second click did not undo the take-over"
        );
        let badge = h.texts(".ai-mode-badge").await?;
        assert!(
            badge.first().is_some_and(|b| b.contains("Human")),
            "the badge reads human: {badge:?}"
        );
        wait_text(h, "#live-announcer", "Human", SCREEN).await?;

        // A triple click on Return to AI, dispatched in one go.
        h.browser()
            .execute(
                "const b = document.getElementById('return-to-ai'); b.click(); b.click(); b.click();",
                vec![],
            )
            .await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        settle("no late repeat PATCH", AFTER_DEBOUNCE).await;
        assert_eq!(patches(h, &id).await?, 2, "a triple click sends one PATCH");

        // Alt+Tab is not Alt+T (its key, "Tab", begins with a t).
        h.press(&[Key::Alt.into(), Key::Tab.into()]).await?;
        settle("a take-over, were it one", AFTER_DEBOUNCE).await;
        assert_eq!(patches(h, &id).await?, 2, "Alt+Tab sends nothing");
        // Alt+T takes over from the keyboard.
        h.press(&[Key::Alt.into(), 't']).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        settle("debounce", AFTER_DEBOUNCE).await;
        assert_eq!(patches(h, &id).await?, 3, "Alt+T sends one PATCH");

        // Close asks first (the focus moves into the question); Cancel, or Escape, changes
        // nothing, and the focus goes back where it was: on Close, or on the messages when
        // Alt+C asked from there.
        for (opener, dismiss) in [("#close-conversation", "Cancel"), (".message-scroller", "Escape")] {
            match opener {
                "#close-conversation" => h.click(opener).await?,
                _ => {
                    h.browser()
                        .execute("document.querySelector(arguments[0]).focus();", vec![json!(opener)])
                        .await?;
                    h.press(&[Key::Alt.into(), 'c']).await?;
                }
            }
            h.wait_focus_on("#confirm-close-no", SCREEN).await?;
            // Behind the question, the handoff's shortcuts change nothing.
            h.press(&[Key::Alt.into(), 'r']).await?;
            wait_text(h, "#live-announcer", "whether to close first", SCREEN).await?;
            match dismiss {
                "Cancel" => h.click("#confirm-close-no").await?,
                _ => h.press(&[Key::Escape.into()]).await?,
            }
            wait_gone(h, "#confirm-close", SCREEN).await?;
            h.wait_focus_on(opener, SCREEN)
                .await
                .with_context(|| format!("the focus back after {dismiss}"))?;
        }
        // A press on the question's words keeps it, and Escape still reaches it; the focus
        // taken to another control (a pointer's press there, a screen reader's browsing) takes
        // the question away unanswered, rather than leave it open behind the focus.
        h.click("#close-conversation").await?;
        h.wait_focus_on("#confirm-close-no", SCREEN).await?;
        h.click("#confirm-close-text").await?;
        // (Tab or Shift+Tab from its words goes to the safe choice, not out of it, nor to the
        // close.)
        h.press(&[Key::Tab.into()]).await?;
        h.wait_focus_on("#confirm-close-no", SCREEN).await?;
        h.click("#confirm-close-text").await?;
        h.press(&[Key::Shift.into(), Key::Tab.into()]).await?;
        h.wait_focus_on("#confirm-close-no", SCREEN).await?;
        h.click("#confirm-close-text").await?;
        h.press(&[Key::Escape.into()]).await?;
        wait_gone(h, "#confirm-close", SCREEN).await?;
        h.wait_focus_on("#close-conversation", SCREEN).await?;
        // Taken away by a press on what takes no focus (the customer's number), and by the
        // focus put on another control.
        for away in ["press", "focus"] {
            h.click("#close-conversation").await?;
            h.wait_focus_on("#confirm-close-no", SCREEN).await?;
            match away {
                "press" => h.click(".thread-header .remote-number").await?,
                _ => {
                    h.browser()
                        .execute("document.querySelector('#return-to-ai').focus();", vec![])
                        .await?;
                }
            }
            wait_gone(h, "#confirm-close", SCREEN)
                .await
                .with_context(|| format!("the question taken away by a {away}"))?;
        }
        h.wait_focus_on("#return-to-ai", SCREEN).await?;
        assert_eq!(patches(h, &id).await?, 3, "cancelling the close sends nothing");
        assert!(attr_is(h, ".ai-mode-badge", "data-mode", "human").await?);

        // Confirmed, it closes: no handoff buttons, the composer says why, and the focus the
        // buttons had is on the messages.
        h.click("#close-conversation").await?;
        h.click("#confirm-close-yes").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "closed").await?;
        h.wait_focus_on(".message-scroller", SCREEN).await?;
        wait_attr(h, "#composer-disabled-reason", "data-reason", "Closed").await?;
        for button in ["#take-over", "#return-to-ai", "#close-conversation"] {
            assert_eq!(count(h, button).await?, 0, "{button} is gone once closed");
        }
        let bar = h
            .browser()
            .execute(
                "return document.querySelector('.handoff-bar').getBoundingClientRect().height;",
                vec![],
            )
            .await?;
        assert_eq!(bar.as_f64(), Some(0.0), "no empty handoff strip once closed");
        let read_only = h
            .wait_for("#composer-text", SCREEN)
            .await?
            .prop("readOnly")
            .await?;
        assert_eq!(read_only.as_deref(), Some("true"), "no replies into a closed conversation");
        settle("debounce", AFTER_DEBOUNCE).await;
        assert_eq!(patches(h, &id).await?, 4);

        // Exactly one audit row per intent, in order.
        let history = audit(h, &id).await?;
        let added: Vec<(String, String)> = history[history_before.len()..].to_vec();
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            added,
            [
                pair("ai", "human"),
                pair("human", "ai"),
                pair("ai", "human"),
                pair("human", "closed"),
            ],
            "the audit trail has one row per change"
        );
        // And the thread shows each change once (from the PATCH answer and the stream event).
        poll_until("the mode-change lines", SCREEN, || async {
            Ok((mode_lines(h, "closed").await? >= 1).then_some(()))
        })
        .await?;
        assert_eq!(
            (mode_lines(h, "human").await?, mode_lines(h, "ai").await?, mode_lines(h, "closed").await?),
            (2, 1, 1),
            "one line per mode change in the thread"
        );

        // Closed is terminal: the customer's next message starts a new conversation.
        let inbound = h
            .sim_post(
                "/sim/inbound",
                &json!({ "agent_id": agent, "channel": "sms", "from_number": customer,
                         "body": "Hello again" }),
            )
            .await?;
        let new_id = str_field(&inbound, "conversation_id")?;
        assert_ne!(new_id, id, "a new conversation id");
        assert_eq!(inbound["new_conversation"], true);
        let old = api_conversation(h, &id).await?;
        assert_eq!(old["ai_mode"], "closed", "the old conversation stays closed");

        // The inbox shows it (newest first) after a reload.
        h.open("/conversations").await?;
        let first = format!("{ROW}[data-index='0']");
        poll_until("the new conversation at the top of the list", SCREEN, || async {
            let ids = h.attrs(&first, "data-conversation-id").await?;
            Ok((ids.first().cloned().flatten().as_deref() == Some(new_id.as_str())).then_some(()))
        })
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// For a moment after a handoff answers, the buttons ignore presses (a double click's second
/// would land on the button that moved into place): they say so until they take presses again,
/// where they looked ready at once and ignored a press without a sign.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buttons_say_they_wait_while_they_ignore_presses() {
    with_harness(Options::default(), async |h: &Harness| {
        open_ai_sms_thread(h, None).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        // When the PATCH was answered, and when Return to AI said it was ready.
        h.browser()
            .execute(
                "window.__ready = null;
                 window.__answered = null;
                 const fetch0 = window.fetch.bind(window);
                 window.fetch = async (...args) => {
                   const r = await fetch0(...args);
                   if ((args[1]?.method || args[0]?.method) === 'PATCH') window.__answered = performance.now();
                   return r;
                 };
                 new MutationObserver(() => {
                   const b = document.getElementById('return-to-ai');
                   if (b && b.getAttribute('aria-disabled') === 'false' && window.__ready === null)
                     window.__ready = performance.now();
                 }).observe(document.body, { attributes: true, childList: true, subtree: true });
                 document.getElementById('take-over').click();",
                vec![],
            )
            .await?;
        wait_attr(h, "#return-to-ai", "aria-disabled", "false").await?;
        let times = h
            .browser()
            .execute("return [window.__answered, window.__ready];", vec![])
            .await?;
        let [answered, ready]: [f64; 2] = serde_json::from_value(times)?;
        assert!(
            ready - answered >= 600.0,
            "ready {:.0} ms after the answer, within the time it ignores presses",
            ready - answered
        );
        assert_no_crash(h).await
    })
    .await;
}

/// The handoff's shortcuts are not swallowed without a word: one pressed again while its change
/// is out says so (the focus is in the reply box, and no button tells), and one pressed right
/// after a change was answered is made (the quiet time is for a mouse's second click, which
/// lands on the button that moved into place, not for a key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_shortcut_is_made_or_said_to_wait() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_ai_sms_thread(h, None).await?;
        h.press(&[Key::Alt.into(), 't']).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        poll_until("the take-over answered", SCREEN, || async {
            Ok((patches(h, &id).await? == 1).then_some(()))
        })
        .await?;
        // At once, within the quiet time after the answer.
        h.press(&[Key::Alt.into(), 'r']).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        settle("a late repeat PATCH, were there one", AFTER_DEBOUNCE).await;
        assert_eq!(patches(h, &id).await?, 2, "one PATCH a press");

        // Pressed again while its change is out (nothing shows it yet).
        fault(
            h,
            json!({ "route": "PATCH /v1/conversations/{id}", "latency_ms": 2000, "count": 1 }),
        )
        .await?;
        h.press(&[Key::Alt.into(), 't']).await?;
        h.press(&[Key::Alt.into(), 't']).await?;
        wait_text(h, "#live-announcer", "already under way", SCREEN).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        settle("a late PATCH, were there one", AFTER_DEBOUNCE).await;
        assert_eq!(patches(h, &id).await?, 3, "the second press sent nothing");

        // So is a second press of the button (it says only that it is unavailable).
        fault(
            h,
            json!({ "route": "PATCH /v1/conversations/{id}", "latency_ms": 2000, "count": 1 }),
        )
        .await?;
        record_said(h).await?;
        h.click("#return-to-ai").await?;
        h.click("#return-to-ai").await?;
        poll_until("the second press said", SCREEN, || async {
            Ok((!said_since(h, "already under way").await?.is_empty()).then_some(()))
        })
        .await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        settle("a late PATCH, were there one", AFTER_DEBOUNCE).await;
        assert_eq!(patches(h, &id).await?, 4, "the second press sent nothing");

        // Enter on the button the focus moved on to, within the quiet time after the change:
        // a key's press is made, as a shortcut's is (it was dropped without a word).
        h.press(&[Key::Alt.into(), 't']).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        settle("its quiet time", AFTER_DEBOUNCE).await;
        // Enter on Return to AI; once its answer is in and the focus has moved on to Take
        // over, within the quiet time, the page presses Take over as Enter does (a click no
        // pointer made): the timing is the page's, not the test's round trips.
        h.browser()
            .execute(
                "window.__quiet = null;
                 let armed = true;
                 const fetch0 = window.fetch.bind(window);
                 const press = () => {
                   const b = document.getElementById('take-over');
                   if (!b || document.activeElement !== b) return setTimeout(press, 10);
                   setTimeout(() => {
                     window.__quiet = b.getAttribute('aria-disabled');
                     b.click();
                   }, 30);
                 };
                 window.fetch = async (...args) => {
                   const r = await fetch0(...args);
                   if (armed && (args[1]?.method || args[0]?.method) === 'PATCH') {
                     armed = false;
                     setTimeout(press, 0);
                   }
                   return r;
                 };
                 document.getElementById('return-to-ai').focus();",
                vec![],
            )
            .await?;
        h.press(&[Key::Enter.into()]).await?;
        poll_until("both presses made", SCREEN, || async {
            Ok((patches(h, &id).await? == 7).then_some(()))
        })
        .await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        let quiet = h
            .browser()
            .execute("return window.__quiet;", vec![])
            .await?;
        assert_eq!(quiet, json!("true"), "pressed within the quiet time");
        settle("a late PATCH, were there one", AFTER_DEBOUNCE).await;
        assert_eq!(patches(h, &id).await?, 7, "each press made its change");
        assert_no_crash(h).await
    })
    .await;
}

/// An operator who takes a conversation over and opens another before the answer comes: the answer
/// finds the conversation's view gone, and the console goes on working (it crashed: the answer
/// read a value of that view). The change itself is made and shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_before_the_answer_comes_keeps_the_console_running() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = find_conversation(h, "answered by the AI, not opted out", |item, full| {
            full["ai_mode"] == "ai" && item["opt_out"] == false
        })
        .await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        fault(
            h,
            json!({ "route": "PATCH /v1/conversations/{id}", "latency_ms": 5000, "count": 1 }),
        )
        .await?;
        h.click("#take-over").await?;
        // Another conversation, from the list (within the app, no new page): the first one's
        // view goes.
        h.click(&format!("{ROW}:not([data-conversation-id='{id}']) a"))
            .await?;
        h.wait_for(
            &format!("article#thread:not([data-conversation-id='{id}'])"),
            SCREEN,
        )
        .await?;
        poll_until("the take-over made", SCREEN, || async {
            let full = api_conversation(h, &id).await?;
            Ok((full["ai_mode"] == "human").then_some(()))
        })
        .await?;
        settle("the answer handled", Duration::from_millis(500)).await;
        assert_no_crash(h).await?;

        // Still working: the conversation opens again from its row, taken over.
        h.click(&format!("{ROW}[data-conversation-id='{id}'] a"))
            .await?;
        wait_thread(h, &id).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Another operator closed the conversation while this console's stream was down: Take over is
/// refused (422), and the thread takes the server's view (closed, no handoff buttons) rather
/// than keep offering what the server refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_handoff_brings_in_the_conversations_state() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "ai", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        // The stream is open but silent throughout: the close is not heard from it, and (live,
        // as far as the console knows) the thread does not refresh itself, as it does every
        // few seconds while the stream is down: only the refusal can bring the close in.
        let stream = format!("GET /v1/conversations/{id}/stream");
        fault(h, json!({ "route": stream, "stall_stream": true })).await?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        h.api_patch(
            &format!("/conversations/{id}"),
            &json!({ "ai_mode": "closed" }),
            DEMO_KEY,
        )
        .await?;
        settle("a close the console could hear of", Duration::from_secs(1)).await;
        assert_eq!(
            count(h, "#take-over").await?,
            1,
            "the console has not heard"
        );

        clear_requests(h).await?;
        h.click("#take-over").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "closed").await?;
        wait_gone(h, "#take-over", SCREEN).await?;
        // Brought in by the refusal: the take-over refused, then the conversation asked for.
        let path = format!("/v1/conversations/{id}");
        let asked: Vec<(String, u16)> = h
            .sim_requests()
            .await?
            .into_iter()
            .filter(|r| r.path == path)
            .map(|r| (r.method, r.status))
            .collect();
        let refused = asked
            .iter()
            .position(|(m, s)| m == "PATCH" && *s == 422)
            .ok_or_else(|| anyhow!("the take-over refused: {asked:?}"))?;
        assert!(
            asked[refused + 1..].iter().any(|(m, _)| m == "GET"),
            "the conversation asked for after the refusal: {asked:?}"
        );
        assert_eq!(
            asked.iter().filter(|(m, _)| m == "PATCH").count(),
            1,
            "one take-over: {asked:?}"
        );
        clear_faults(h).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The close question open when another operator closes the conversation goes away, and the
/// focus it held lands on the messages: it stayed, offering a close that had been made, and
/// every update of the thread pulled the focus out of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_close_question_goes_when_the_conversation_is_closed_elsewhere() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_live(h, "human", "sms").await?;
        h.click("#close-conversation").await?;
        h.wait_for("#confirm-close-no", SCREEN).await?;
        h.api_patch(
            &format!("/conversations/{id}"),
            &json!({ "ai_mode": "closed" }),
            DEMO_KEY,
        )
        .await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "closed").await?;
        wait_gone(h, "#confirm-close", SCREEN).await?;
        wait_focus_in(h, ".message-scroller", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Taken over elsewhere while the stream was down: the refetch that follows the reconnect brings
/// the new mode, and the operator hears who took it over, as from the stream. The badge changed
/// without a word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_mode_a_refetch_brings_is_announced() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "ai", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        let stream = format!("GET /v1/conversations/{id}/stream");
        fault(h, json!({ "route": stream, "stream_status": 503 })).await?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        h.api_patch(
            &format!("/conversations/{id}"),
            &json!({ "ai_mode": "human" }),
            DEMO_KEY,
        )
        .await?;
        clear_faults(h).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        wait_text(
            h,
            "#live-announcer",
            "Taken over by",
            Duration::from_secs(30),
        )
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A take-over that fails says which action failed, and offers it again: "Voicebip had a
/// problem" alone said not what, and nothing but the button itself tried again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_take_over_is_named_and_tried_again_from_its_banner() {
    with_harness(Options::default(), async |h: &Harness| {
        open_ai_sms_thread(h, Some(json!({ "status": 503 }))).await?;
        h.click("#take-over").await?;
        wait_text(
            h,
            "#action-error",
            "Take over failed",
            Duration::from_secs(30),
        )
        .await?;
        clear_faults(h).await?;
        h.click("#action-error-retry").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        wait_gone(h, "#action-error", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Over the rate limit for longer than the console waits by itself, a take-over says how long to
/// wait, with no Try again (tried at once, it would only be refused again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_take_over_says_how_long_to_wait() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_ai_sms_thread(h, Some(json!({ "force_429_retry_after": 120, "count": 1 })))
            .await?;
        h.click("#take-over").await?;
        wait_text(h, "#action-error", "wait 120 s", SCREEN).await?;
        assert_eq!(count(h, "#action-error-retry").await?, 0, "no Try again");

        // Another operator takes it over meanwhile: nothing is left to wait for, and the
        // failure does not come back with the AI.
        for (mode, gone) in [("human", "taken over"), ("ai", "handed back")] {
            h.api_patch(
                &format!("/conversations/{id}"),
                &json!({ "ai_mode": mode }),
                DEMO_KEY,
            )
            .await?;
            wait_attr(h, ".ai-mode-badge", "data-mode", mode).await?;
            wait_gone(h, "#action-error", SCREEN)
                .await
                .with_context(|| format!("the failure gone, {gone}"))?;
        }
        settle("the failure would be back", Duration::from_millis(300)).await;
        assert_eq!(count(h, "#action-error").await?, 0);
        assert_no_crash(h).await
    })
    .await;
}

/// The close question open when another operator takes the conversation over goes, and says
/// so: it stayed, and the press meant for the AI's conversation ended the other operator's
/// exchange with the customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_close_question_goes_when_the_conversation_changes_hands() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_live(h, "ai", "sms").await?;
        h.click("#close-conversation").await?;
        h.wait_for("#confirm-close-no", SCREEN).await?;
        h.api_patch(
            &format!("/conversations/{id}"),
            &json!({ "ai_mode": "human" }),
            DEMO_KEY,
        )
        .await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        wait_gone(h, "#confirm-close", SCREEN).await?;
        wait_text(h, "#live-announcer", "Not closed", SCREEN).await?;
        h.wait_focus_on("#close-conversation", SCREEN).await?;
        assert_eq!(api_conversation(h, &id).await?["ai_mode"], "human");
        assert_no_crash(h).await
    })
    .await;
}

/// Close confirmed while a take-over is still out: the question stays, with the focus in it,
/// and says why; answered again once the take-over is back, the close is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_confirmed_during_another_change_waits_with_the_focus() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_ai_sms_thread(h, Some(json!({ "latency_ms": 8_000, "count": 1 }))).await?;
        h.click("#take-over").await?;
        h.click("#close-conversation").await?;
        h.click("#confirm-close-yes").await?;
        settle("the close's refusal rendered", Duration::from_millis(300)).await;
        assert_eq!(
            h.focused_id().await?,
            "confirm-close-yes",
            "the focus stays in the question"
        );
        wait_text(h, "#confirm-close-busy", "under way", SCREEN).await?;
        wait_text(h, "#live-announcer", "under way", SCREEN).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        wait_attr(h, "#confirm-close-yes", "aria-disabled", "false").await?;
        h.click("#confirm-close-yes").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "closed").await?;
        assert_eq!(api_conversation(h, &id).await?["ai_mode"], "closed");
        assert_no_crash(h).await
    })
    .await;
}

/// A close held back by the rate limit is not made when, by the end of its wait, another
/// operator has taken the conversation over: it would end their exchange. It says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_held_by_the_rate_limit_is_not_made_after_another_takes_over() {
    with_harness(Options::default(), async |h: &Harness| {
        let id =
            open_ai_sms_thread(h, Some(json!({ "force_429_retry_after": 3, "count": 1 }))).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        clear_requests(h).await?;
        h.click("#close-conversation").await?;
        h.click("#confirm-close-yes").await?;
        poll_until("the close refused for the rate limit", SCREEN, || async {
            Ok((patches(h, &id).await? == 1).then_some(()))
        })
        .await?;
        h.api_patch(
            &format!("/conversations/{id}"),
            &json!({ "ai_mode": "human" }),
            DEMO_KEY,
        )
        .await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        wait_text(h, "#live-announcer", "not done", SCREEN).await?;
        settle("no close after the wait", Duration::from_secs(1)).await;
        assert_eq!(
            patches(h, &id).await?,
            2,
            "the refused close and the other operator's take-over, nothing after"
        );
        assert_eq!(api_conversation(h, &id).await?["ai_mode"], "human");
        assert!(attr_is(h, ".ai-mode-badge", "data-mode", "human").await?);
        assert_eq!(
            count(h, "#action-error").await?,
            0,
            "no failure to try again"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A close held back by the rate limit when the operator signs out is not made with the key
/// signed out of, nor announced on the connect screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_held_at_a_sign_out_is_not_made() {
    with_harness(Options::default(), async |h: &Harness| {
        let id =
            open_ai_sms_thread(h, Some(json!({ "force_429_retry_after": 3, "count": 1 }))).await?;
        clear_requests(h).await?;
        h.click("#close-conversation").await?;
        h.click("#confirm-close-yes").await?;
        poll_until("the close refused for the rate limit", SCREEN, || async {
            Ok((patches(h, &id).await? == 1).then_some(()))
        })
        .await?;
        h.click("#sign-out").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        settle("past the close's wait", Duration::from_secs(4)).await;
        assert_eq!(patches(h, &id).await?, 1, "only the refused close");
        assert_eq!(api_conversation(h, &id).await?["ai_mode"], "ai");
        let said = h.texts("#live-announcer").await?.join(" ");
        assert!(!said.contains("not done"), "nothing to tell: {said:?}");
        assert_no_crash(h).await
    })
    .await;
}

/// A take-over answered `changed: false` (another operator took the conversation over while
/// this console did not hear of it) names that operator, where the operator would otherwise be
/// told, as for their own change, only who answers now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_take_over_already_made_by_another_names_them() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "ai", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        let stream = format!("GET /v1/conversations/{id}/stream");
        fault(h, json!({ "route": stream, "stall_stream": true })).await?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        h.api_patch_as(
            "usr_other_operator",
            &format!("/conversations/{id}"),
            &json!({ "ai_mode": "human" }),
            DEMO_KEY,
        )
        .await?;
        h.click("#take-over").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        wait_text(h, "#live-announcer", "usr_other_operator", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Another tab's take-over reaches this one, and only once: coming back to the conversation
/// later fetches it as any opening does, not again for the tab's old news.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tabs_take_over_is_taken_in_once() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "ai", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        let thread = format!("/conversations/{id}");
        sign_in(h).await?;
        h.open("/config.json").await?;
        // The page around the two consoles hears what they tell each other.
        h.browser()
            .execute(
                "window.told = []; window.tabs = new BroadcastChannel('voicebip-console'); \
                 tabs.onmessage = e => told.push(e.data); \
                 document.body.innerHTML = \
                 `<iframe id=\"a\" src=\"${arguments[0]}\" width=\"600\" height=\"700\"></iframe>` + \
                 `<iframe id=\"b\" src=\"${arguments[0]}\" width=\"600\" height=\"700\"></iframe>`;",
                vec![json!(thread)],
            )
            .await?;
        for frame in ["#a", "#b"] {
            in_frame(h, frame, async || {
                wait_thread(h, &id).await?;
                wait_attr(h, "#connection-status", "data-state", "live").await
            })
            .await?;
        }
        in_frame(h, "#a", async || {
            h.click("#take-over").await?;
            wait_attr(h, ".ai-mode-badge", "data-mode", "human").await
        })
        .await?;
        in_frame(h, "#b", async || {
            wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
            h.click(".back-link").await?;
            h.wait_for_all(ROW, 1, SCREEN).await?;
            Ok(())
        })
        .await?;
        // The take-over's news is the last #b heard before it goes back to the conversation
        // (told again here, so that a list page #a shared since is not), as when the
        // operator switches tabs.
        clear_requests(h).await?;
        let retold = h
            .browser()
            .execute(
                "const news = told.filter(t => t.includes('mode_changed')).pop(); \
                 if (news) tabs.postMessage(news); \
                 return !!news;",
                vec![],
            )
            .await?;
        assert_eq!(retold, json!(true), "#a told the other tabs of its take-over");
        // #a hears it too, and fetches its open thread again: that fetch is not #b's.
        poll_until("#a's fetch for the news", SCREEN, || async {
            Ok((!newest_page_requests(h, &id).await?.is_empty()).then_some(()))
        })
        .await?;
        settle("#b hears it", Duration::from_millis(300)).await;
        clear_requests(h).await?;
        h.browser()
            .execute(
                "document.getElementById('b').contentWindow.history.back();",
                vec![],
            )
            .await?;
        in_frame(h, "#b", async || {
            wait_thread(h, &id).await?;
            wait_attr(h, "#connection-status", "data-state", "live").await
        })
        .await?;
        settle("a second fetch, were it one", Duration::from_secs(1)).await;
        let fetches = newest_page_requests(h, &id).await?;
        // One as it opens, one as its stream opens (for what came between the two).
        assert_eq!(fetches.len(), 2, "the thread opened again: {fetches:#?}");
        Ok(())
    })
    .await;
}

/// A handoff made from its button does not leave the focus on a button that has become another
/// action under it (Take over turned into Return to AI unsaid, and a second Enter gave the
/// conversation back): taken over, the keyboard goes on in the reply box (or, the WhatsApp
/// window shut, in the template form); given back to the AI, on the action now offered, a button
/// of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_focus_goes_on_from_a_handoff_button_whose_action_is_done() {
    with_harness(Options::default(), async |h: &Harness| {
        open_ai_sms_thread(h, Some(json!({ "latency_ms": 0, "count": 1 }))).await?;
        let wait_focus = async |id: &str| {
            poll_until(&format!("the focus on #{id}"), SCREEN, || async {
                Ok((h.focused_id().await? == id).then_some(()))
            })
            .await
        };
        h.click("#take-over").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        wait_focus("composer-text").await?;
        h.browser()
            .execute(
                "const b = document.getElementById('return-to-ai');
                 b.__before = true; b.focus();",
                vec![],
            )
            .await?;
        // (Past the buttons' debounce, which takes a second press at once for the first's.)
        settle("the debounce", Duration::from_secs(1)).await;
        h.press(&[Key::Enter.into()]).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        wait_focus("take-over").await?;
        let fresh = h
            .browser()
            .execute("return !document.activeElement.__before;", vec![])
            .await?;
        assert_eq!(
            fresh,
            json!(true),
            "a button of its own, not the one pressed"
        );

        // Where the WhatsApp window has shut, the keyboard goes on where a template is written
        // (not on Return to AI, the first button then).
        let whatsapp = reachable(h, "ai", "whatsapp").await?;
        let wa_id = str_field(&whatsapp, "conversation_id")?;
        h.sim_post(
            &format!("/sim/conversations/{wa_id}/window"),
            &json!({ "expired": true }),
        )
        .await?;
        open_thread(h, &wa_id).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        h.click("#take-over").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        wait_focus("template-name").await?;
        assert_no_crash(h).await
    })
    .await;
}
