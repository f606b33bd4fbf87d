//! Replying: the composer counts SMS segments, Enter sends (Shift+Enter doesn't), a send shows
//! at once and then follows its receipts, failures keep the text for a deliberate retry (never
//! an automatic resend), drafts survive switching and reloading, and the composer explains why
//! it is disabled — with a template form when the WhatsApp window has closed.

use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use voicebip_e2e::anyhow::{anyhow, bail, Result};
use voicebip_e2e::{poll_until, with_harness, Harness, Key, Options, DEMO_KEY};

/// Long enough to rule out an automatic resend: the console's first read retry would come
/// after 0.5 s.
const NO_RESEND: Duration = Duration::from_millis(1_500);
/// A list poll or two (`inbox_poll_seconds` is 10 in `public/config.json`).
const LIST_POLL: Duration = Duration::from_secs(25);

async fn composer_value(h: &Harness) -> Result<String> {
    Ok(h.wait_for("#composer-text", SCREEN)
        .await?
        .prop("value")
        .await?
        .unwrap_or_default())
}

async fn type_into_composer(h: &Harness, text: &str) -> Result<()> {
    h.fill("#composer-text", text).await
}

/// Waits until the reply box holds `text`, and only that.
async fn wait_reply_box(h: &Harness, text: &str) -> Result<()> {
    poll_until("the text back in the reply box", SCREEN, || async {
        Ok((composer_value(h).await? == text).then_some(()))
    })
    .await
}

/// A listed conversation other than `id`.
async fn another_row(h: &Harness, id: &str) -> Result<String> {
    row_ids(h)
        .await?
        .into_iter()
        .find(|r| r != id)
        .ok_or_else(|| anyhow!("another row than {id}"))
}

/// Types `text` into the reply box and sends it, as the operator does: with Enter.
async fn send_reply(h: &Harness, text: &str) -> Result<()> {
    type_into_composer(h, text).await?;
    h.press(&[Key::Enter.into()]).await
}

/// Clears the request log, sends `text` as the operator does, and waits until the rate limit
/// (a 429 fault set for it) has refused it.
async fn send_held_by_the_rate_limit(h: &Harness, text: &str) -> Result<()> {
    clear_requests(h).await?;
    send_reply(h, text).await?;
    poll_until("the send refused for the rate limit", SCREEN, || async {
        Ok((message_posts(h).await? == [429]).then_some(()))
    })
    .await
}

/// What the template form's name and parameters hold.
async fn template_fields(h: &Harness) -> Result<Value> {
    Ok(h.browser()
        .execute(
            "return [document.getElementById('template-name').value,
                     document.getElementById('template-parameters').value];",
            vec![],
        )
        .await?)
}

async fn counter(h: &Harness) -> Result<String> {
    Ok(h.texts("#segment-counter").await?.join(" "))
}

async fn wait_counter(h: &Harness, parts: &[&str]) -> Result<String> {
    poll_until(
        &format!("the segment counter to read {parts:?}"),
        SCREEN,
        || async {
            let c = counter(h).await?;
            Ok(parts.iter().all(|p| c.contains(p)).then_some(c))
        },
    )
    .await
}

/// Signs in and opens an SMS conversation the operator has taken over, with `send_fault` set
/// for the sends to come; its id.
async fn open_human_sms_thread(h: &Harness, send_fault: Value) -> Result<String> {
    let conv = reachable(h, "human", "sms").await?;
    let id = str_field(&conv, "conversation_id")?;
    sign_in(h).await?;
    open_thread(h, &id).await?;
    fault(h, send_fault).await?;
    Ok(id)
}

/// A WhatsApp conversation the operator has taken over, its window made open or `expired`.
async fn taken_over_whatsapp(h: &Harness, expired: bool) -> Result<Value> {
    let conv = reachable(h, "human", "whatsapp").await?;
    let id = str_field(&conv, "conversation_id")?;
    h.sim_post(
        &format!("/sim/conversations/{id}/window"),
        &json!({ "expired": expired }),
    )
    .await?;
    Ok(conv)
}

async fn message_posts(h: &Harness) -> Result<Vec<u16>> {
    posts_to(h, "/v1/messages").await
}

async fn template_posts(h: &Harness) -> Result<Vec<u16>> {
    posts_to(h, "/v1/messages/template").await
}

/// The statuses of the POSTs to `path`, oldest first.
async fn posts_to(h: &Harness, path: &str) -> Result<Vec<u16>> {
    Ok(requests(h, "POST", |p| p == path)
        .await?
        .into_iter()
        .map(|r| r.status)
        .collect())
}

/// Back on a conversation whose send of `failed` is still out, the operator types; the send
/// then is refused (a 402; a 5xx may have gone out, and is kept as such): its text goes into
/// the reply box shown, ahead of what was typed. The box's text.
async fn typing_until_the_late_failure(h: &Harness, failed: &str) -> Result<String> {
    let typing = "Typing meanwhile";
    type_into_composer(h, typing).await?;
    assert!(
        !message_posts(h).await?.contains(&402),
        "back before the answer came"
    );
    poll_until("the late answer made", SCREEN, || async {
        Ok(message_posts(h).await?.contains(&402).then_some(()))
    })
    .await?;
    let both = format!("{failed}\n\n{typing}");
    poll_until(
        "the late failure in the reply box shown",
        SCREEN,
        || async { Ok((composer_value(h).await? == both).then_some(())) },
    )
    .await?;
    Ok(both)
}

/// Disabled (or marked so, for a control that keeps its focus), or for the reply box, read-only
/// (its text can still be selected and copied).
async fn disabled(h: &Harness, css: &str) -> Result<bool> {
    let element = h.wait_for(css, SCREEN).await?;
    for prop in ["disabled", "readOnly"] {
        if element.prop(prop).await?.as_deref() == Some("true") {
            return Ok(true);
        }
    }
    Ok(element.attr("aria-disabled").await?.as_deref() == Some("true"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_reply_counts_sends_follows_receipts_and_keeps_failed_text() {
    with_harness(Options::default(), async |h: &Harness| {
        settings(h, json!({ "status_step_ms": 300 })).await?;
        let id = open_live(h, "human", "sms").await?;
        assert_eq!(
            count(h, "#composer-disabled-reason").await?,
            0,
            "a human SMS thread can reply"
        );
        assert!(!disabled(h, "#composer-text").await?);

        // Segments: GSM-7 until a character outside it makes the whole text UCS-2.
        type_into_composer(h, "Hello").await?;
        wait_counter(h, &["GSM-7", "1 segment", "155 left"]).await?;
        type_into_composer(h, &"a".repeat(161)).await?;
        wait_counter(h, &["GSM-7", "2 segments"]).await?;
        type_into_composer(h, "Ẹ ku ọjọ").await?;
        wait_counter(h, &["UCS-2", "1 segment", "62 left"]).await?;

        // Shift+Enter is a new line, not a send.
        clear_requests(h).await?;
        type_into_composer(h, "Your refund is approved.").await?;
        h.press(&[Key::Shift.into(), Key::Enter.into()]).await?;
        h.wait_for("#composer-text", SCREEN)
            .await?
            .send_keys("It reaches you in 3 days.")
            .await?;
        let text = "Your refund is approved.\nIt reaches you in 3 days.";
        assert_eq!(
            composer_value(h).await?,
            text,
            "Shift+Enter inserted a newline"
        );
        assert_eq!(
            count(h, "li.message.local").await?,
            0,
            "Shift+Enter sent nothing"
        );

        // Enter sends: shown at once as pending (the API is slow this time, slower than a
        // loaded machine's pause before the test looks), then as the API's message with its
        // id, moving through its receipts.
        fault(
            h,
            json!({ "route": "POST /v1/messages", "latency_ms": 8000, "count": 1 }),
        )
        .await?;
        h.press(&[Key::Enter.into()]).await?;
        let pending = wait_message(h, text, "pending", |m| m.local).await?;
        assert_eq!(pending.status.as_deref(), Some("pending"));
        assert_eq!(
            composer_value(h).await?,
            "",
            "the composer is cleared on send"
        );
        let sent = wait_message(h, text, "confirmed with an id", |m| m.id.is_some()).await?;
        // Said, not only shown: the operator who pressed Enter hears that it went.
        wait_text(h, "#live-announcer", "Sent", SCREEN).await?;
        let msg_id = sent.id.clone().unwrap_or_default();
        assert_eq!(sent.direction.as_deref(), Some("outbound"));
        wait_message(h, text, "delivered", |m| {
            m.status.as_deref() == Some("delivered")
        })
        .await?;
        let shown = shown_with_body(h, text).await?;
        assert_eq!(
            shown.len(),
            1,
            "the send shows once, not as pending + confirmed: {shown:?}"
        );
        let api = api_conversation(h, &id).await?;
        let stored = api["messages"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["message_id"] == msg_id.as_str()))
            .ok_or_else(|| anyhow!("{msg_id} is not in the API's conversation"))?;
        assert_eq!(stored["body"], text);
        assert_eq!(message_posts(h).await?, [201], "one POST for one send");

        // A send the network accepts but delivery fails: failed, with the reason. Sent with
        // the button this time, which the emptied box disables: the focus goes back to the box.
        let doomed = "This one will FAIL to deliver";
        type_into_composer(h, doomed).await?;
        h.click("#composer-send").await?;
        wait_message(h, doomed, "failed", |m| {
            m.id.is_some() && m.status.as_deref() == Some("failed")
        })
        .await?;
        assert_eq!(
            h.focused_id().await?,
            "composer-text",
            "after Send, the operator is back in the reply box"
        );
        let errors = h
            .texts("ol#messages > li.message[data-status='failed'] .message-error")
            .await?;
        assert!(
            errors.iter().any(|e| e.contains("UNDELIVERABLE")),
            "the failure shows its error code: {errors:?}"
        );
        // It is said, and its Edit puts it back in the reply box, to send again.
        wait_text(h, "#live-announcer", "Not delivered", SCREEN).await?;
        // (Twice: the button stays, and the text goes back once.)
        for _ in 0..2 {
            h.click("ol#messages > li.message[data-status='failed'] .edit-undelivered")
                .await?;
        }
        let back = h
            .browser()
            .execute(
                "return document.getElementById('composer-text').value;",
                vec![],
            )
            .await?;
        assert_eq!(
            back,
            json!(doomed),
            "the undelivered text is back in the reply box"
        );
        // (Edit hands the focus over once the reply box has rendered, a frame later.)
        h.wait_focus_on("#composer-text", SCREEN).await?;
        h.fill("#composer-text", "").await?;

        // The API fails the POST (503): the text stays with Retry; nothing is resent by itself.
        fault(h, json!({ "route": "POST /v1/messages", "status": 503 })).await?;
        clear_requests(h).await?;
        let retried = "Sorry for the delay, checking now";
        send_reply(h, retried).await?;
        let failed = wait_message(h, retried, "failed to send", |m| {
            m.local && m.status.as_deref() == Some("failed")
        })
        .await?;
        assert!(failed.id.is_none());
        h.wait_for("li.message.local[data-status='failed'] .retry-send", SCREEN)
            .await?;
        h.wait_for("li.message.local[data-status='failed'] .edit-send", SCREEN)
            .await?;
        settle("no automatic resend of a POST", NO_RESEND).await;
        assert_eq!(
            message_posts(h).await?,
            [503],
            "exactly one POST while the API fails"
        );
        clear_faults(h).await?;
        h.click("li.message.local[data-status='failed'] .retry-send")
            .await?;
        wait_message(h, retried, "sent on retry", |m| m.id.is_some()).await?;
        wait_gone(h, "li.message.local", SCREEN).await?;
        assert_eq!(shown_with_body(h, retried).await?.len(), 1);
        assert_eq!(
            message_posts(h).await?,
            [503, 201],
            "Retry sent it once more"
        );

        // Edit puts a failed text back into the composer.
        fault(
            h,
            json!({ "route": "POST /v1/messages", "status": 500, "count": 1 }),
        )
        .await?;
        let edited = "Let me fix this";
        send_reply(h, edited).await?;
        wait_message(h, edited, "failed to send", |m| m.local).await?;
        // Typed meanwhile, beginning as the failed text does: it stays, after that text.
        let typing = "Let me fix this properly";
        type_into_composer(h, typing).await?;
        h.click("li.message.local[data-status='failed'] .edit-send")
            .await?;
        wait_gone(h, "li.message.local", SCREEN).await?;
        assert_eq!(
            composer_value(h).await?,
            format!("{edited}\n\n{typing}"),
            "Edit restores the text, ahead of what was typed"
        );
        // A draft survives switching conversations (there and back) and a reload.
        let draft = "Draft: I'll call you back after 3pm";
        type_into_composer(h, draft).await?;
        let other: String = h
            .attrs(ROW, "data-conversation-id")
            .await?
            .into_iter()
            .flatten()
            .find(|c| *c != id)
            .ok_or_else(|| anyhow!("no other conversation in the list"))?;
        h.click(&format!("{ROW}[data-conversation-id='{other}'] a"))
            .await?;
        wait_thread(h, &other).await?;
        assert_ne!(
            composer_value(h).await?,
            draft,
            "the draft belongs to its conversation"
        );
        h.browser().back().await?;
        wait_thread(h, &id).await?;
        poll_until("the draft to come back", SCREEN, || async {
            Ok((composer_value(h).await? == draft).then_some(()))
        })
        .await?;
        h.browser().refresh().await?;
        wait_thread(h, &id).await?;
        poll_until("the draft after a reload", SCREEN, || async {
            Ok((composer_value(h).await? == draft).then_some(()))
        })
        .await?;
        // Kept for the tab, as the key is (the operator did not ask to be remembered).
        let item = draft_item(h, DEMO_KEY, &id);
        assert_eq!(
            storage_item(h, "sessionStorage", &item).await?.as_deref(),
            Some(draft)
        );
        assert_eq!(storage_item(h, "localStorage", &item).await?, None);

        // A failed send is not lost with the thread's view: leaving the conversation keeps its
        // text in the draft, ahead of what was being typed. First a send that failed on screen,
        // then one still out when the operator left, which fails after. (Refused, 402: a 5xx
        // may have gone out, and is kept apart, as such.)
        let failed_first = "Unsent: your refund is approved";
        fault(
            h,
            json!({ "route": "POST /v1/messages", "status": 402, "count": 1 }),
        )
        .await?;
        send_reply(h, failed_first).await?;
        wait_message(h, failed_first, "failed to send", |m| {
            m.local && m.status.as_deref() == Some("failed")
        })
        .await?;
        type_into_composer(h, draft).await?;
        let failed_later = "Unsent: it reaches you by Friday";
        fault(
            h,
            // Answered 3 s after it is sent: well after the operator has left the conversation.
            json!({ "route": "POST /v1/messages", "status": 402, "latency_ms": 3000, "count": 1 }),
        )
        .await?;
        h.click(&format!("{ROW}[data-conversation-id='{other}'] a"))
            .await?;
        wait_thread(h, &other).await?;
        h.browser().back().await?;
        wait_thread(h, &id).await?;
        let kept = format!("{failed_first}\n\n{draft}");
        poll_until("the failed text kept in the draft", SCREEN, || async {
            Ok((composer_value(h).await? == kept).then_some(()))
        })
        .await?;
        clear_requests(h).await?;
        send_reply(h, failed_later).await?;
        h.click(&format!("{ROW}[data-conversation-id='{other}'] a"))
            .await?;
        wait_thread(h, &other).await?;
        poll_until("the late answer made", SCREEN, || async {
            Ok(message_posts(h).await?.contains(&402).then_some(()))
        })
        .await?;
        settle("the late answer received", Duration::from_millis(500)).await;
        h.browser().back().await?;
        wait_thread(h, &id).await?;
        poll_until(
            "the text that failed after leaving kept",
            SCREEN,
            || async { Ok((composer_value(h).await? == failed_later).then_some(())) },
        )
        .await?;

        // Back on the conversation before that late answer comes: the text goes into the reply
        // box shown, ahead of what is being typed there, and stays (it went only to the kept
        // draft, which the box shown then wrote over).
        let failed_back = "Unsent: we will call you back";
        fault(
            h,
            json!({ "route": "POST /v1/messages", "status": 402, "latency_ms": 10_000, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        send_reply(h, failed_back).await?;
        h.click(&format!("{ROW}[data-conversation-id='{other}'] a"))
            .await?;
        wait_thread(h, &other).await?;
        h.browser().back().await?;
        wait_thread(h, &id).await?;
        let both = typing_until_the_late_failure(h, failed_back).await?;
        h.browser().refresh().await?;
        wait_thread(h, &id).await?;
        poll_until("the reply box kept after a reload", SCREEN, || async {
            Ok((composer_value(h).await? == both).then_some(()))
        })
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A send that fails after the operator went back to the list (in a narrow window, which
/// takes the conversation's pane away) and reopened the conversation: its text goes into the
/// reply box shown, ahead of what is typed there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_failure_reaches_the_reply_box_after_the_list_was_shown() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        inject(h, &id, "Any news?").await?;
        sign_in(h).await?;
        h.browser().set_window_size(420, 800).await?;
        open_thread(h, &id).await?;
        fault(
            h,
            json!({ "route": "POST /v1/messages", "status": 402, "latency_ms": 10_000, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        let text = "Unsent: the courier calls ahead";
        send_reply(h, text).await?;
        h.click(".back-link").await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        h.click(&format!("{ROW}[data-conversation-id='{id}'] a"))
            .await?;
        wait_thread(h, &id).await?;
        typing_until_the_late_failure(h, text).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The operator's reply from one tab moves its conversation to the top of another tab's list:
/// theirs, not news there (a summary does not say whose its last message is). No unread marker,
/// nothing read out. The customer's answer after it is news.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_from_another_tab_is_not_news_in_this_ones_list() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in_remembered(h, DEMO_KEY).await?;
        two_consoles(h, &format!("/conversations/{id}"), "/conversations").await?;
        let marker = format!("{ROW}[data-conversation-id='{id}'] .unread-marker");
        let first = async || -> Result<bool> {
            let rows = h.attrs(ROW, "data-conversation-id").await?;
            Ok(rows.first().cloned().flatten().as_deref() == Some(id.as_str()))
        };
        in_frame(h, "#b", async || {
            // (Not first yet: its move up is the reply's.)
            if first().await? {
                bail!("{id} is first already");
            }
            record_said(h).await
        })
        .await?;
        in_frame(h, "#a", async || {
            wait_thread(h, &id).await?;
            send_reply(h, "Replied from the first tab").await?;
            wait_message(h, "Replied from the first tab", "sent", |m| m.id.is_some())
                .await
                .map(drop)
        })
        .await?;
        in_frame(h, "#b", async || {
            poll_until("the replied conversation first", LIST_POLL, || async {
                Ok(first().await?.then_some(()))
            })
            .await?;
            settle("a marker would show by now", Duration::from_secs(1)).await;
            assert_eq!(
                count(h, &marker).await?,
                0,
                "the operator's own reply is no news"
            );
            let said = said_since(h, "New message").await?;
            assert!(said.is_empty(), "read out as news: {said:?}");
            Ok(())
        })
        .await?;
        inject(h, &id, "Thanks, and one more thing").await?;
        in_frame(h, "#b", async || {
            poll_until("the customer's answer marked", LIST_POLL, || async {
                Ok((count(h, &marker).await? == 1).then_some(()))
            })
            .await?;
            assert_no_crash(h).await
        })
        .await
    })
    .await;
}

/// The same conversation open in two tabs, its drafts kept on the device: what is typed in one
/// is the other's reply box too, and a reply sent from one empties the other's box, whose next
/// Enter would have sent it a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_typed_in_one_tab_is_the_other_tabs_draft_too() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in_remembered(h, DEMO_KEY).await?;
        let path = format!("/conversations/{id}");
        two_consoles(h, &path, &path).await?;
        for frame in ["#a", "#b"] {
            in_frame(h, frame, async || wait_thread(h, &id).await).await?;
        }
        in_frame(h, "#a", async || {
            type_into_composer(h, "Typed in the first tab").await
        })
        .await?;
        in_frame(h, "#b", async || {
            wait_reply_box(h, "Typed in the first tab").await?;
            type_into_composer(h, "Typed in the first tab, and the second").await
        })
        .await?;
        in_frame(h, "#a", async || {
            wait_reply_box(h, "Typed in the first tab, and the second").await
        })
        .await?;
        // Written from a third page of the device: in both boxes. But a removal is not
        // typing: a sign-out elsewhere removes the workspace's drafts, and what is in the boxes
        // stays there.
        let item = draft_item(h, DEMO_KEY, &id);
        let typed = "Typed in the first tab, and the second";
        for (script, shown) in [
            (
                "localStorage.setItem(arguments[0], 'x' + arguments[1]);",
                format!("x{typed}"),
            ),
            (
                "localStorage.removeItem(arguments[0]);",
                format!("x{typed}"),
            ),
        ] {
            h.browser()
                .execute(script, vec![json!(item), json!(typed)])
                .await?;
            settle("the change heard", NO_RESEND).await;
            for frame in ["#a", "#b"] {
                in_frame(h, frame, async || wait_reply_box(h, &shown).await).await?;
            }
        }
        let typed = format!("x{typed}");
        in_frame(h, "#a", async || {
            // (The focus went to the other frame with the test.)
            h.click("#composer-text").await?;
            h.press(&[Key::End.into(), Key::Enter.into()]).await?;
            wait_message(h, &typed, "sent", |m| m.id.is_some())
                .await
                .map(drop)
        })
        .await?;
        in_frame(h, "#b", async || {
            wait_reply_box(h, "").await?;
            wait_message(h, &typed, "in the other tab too", |m| m.id.is_some()).await?;
            assert_no_crash(h).await
        })
        .await?;
        let posts = requests(h, "POST", |p| p == "/v1/messages").await?;
        assert_eq!(posts.len(), 1, "one reply sent: {posts:?}");
        Ok(())
    })
    .await;
}

/// The same conversation open in two tabs, its drafts on the device, and a reply refused in
/// the second: the first takes its text in with the draft. Sent from the first, it settles the
/// second's failed reply, whose Retry would have sent it twice. And what the first types after
/// such a text is the second's box too: a Retry there put its older, empty box over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_reply_in_one_tab_neither_doubles_nor_wipes_the_others() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in_remembered(h, DEMO_KEY).await?;
        let path = format!("/conversations/{id}");
        two_consoles(h, &path, &path).await?;
        for frame in ["#a", "#b"] {
            in_frame(h, frame, async || wait_thread(h, &id).await).await?;
        }
        const FAILED: &str = "li.message.local[data-status='failed'] .retry-send";
        let refuse_next = async || {
            fault(
                h,
                json!({ "route": "POST /v1/messages", "status": 422, "count": 1 }),
            )
            .await
        };
        refuse_next().await?;
        in_frame(h, "#b", async || {
            send_reply(h, "Refund approved").await?;
            h.wait_for(FAILED, SCREEN).await.map(drop)
        })
        .await?;
        in_frame(h, "#a", async || {
            wait_reply_box(h, "Refund approved").await?;
            h.click("#composer-text").await?;
            h.press(&[Key::Enter.into()]).await?;
            wait_message(h, "Refund approved", "sent", |m| m.id.is_some())
                .await
                .map(drop)
        })
        .await?;
        in_frame(h, "#b", async || {
            wait_message(h, "Refund approved", "sent from the other tab", |m| {
                m.id.is_some()
            })
            .await?;
            poll_until("the failed reply settled", SCREEN, || async {
                Ok((count(h, FAILED).await? == 0).then_some(()))
            })
            .await
        })
        .await?;

        refuse_next().await?;
        in_frame(h, "#b", async || {
            send_reply(h, "Second").await?;
            h.wait_for(FAILED, SCREEN).await.map(drop)
        })
        .await?;
        let after = "Typed after it in the first tab";
        in_frame(h, "#a", async || {
            wait_reply_box(h, "Second").await?;
            h.click("#composer-text").await?;
            h.press(&[Key::End.into()]).await?;
            for _ in 0..2 {
                h.press(&[Key::Shift.into(), Key::Enter.into()]).await?;
            }
            h.wait_for("#composer-text", SCREEN)
                .await?
                .send_keys(after)
                .await?;
            Ok(())
        })
        .await?;
        in_frame(h, "#b", async || {
            // Its failed reply stays its own, ahead of what the first tab typed.
            wait_reply_box(h, after).await?;
            h.click(FAILED).await?;
            wait_message(h, "Second", "sent on retry", |m| m.id.is_some())
                .await
                .map(drop)
        })
        .await?;
        in_frame(h, "#a", async || {
            settle("the retry's draft heard", NO_RESEND).await;
            wait_reply_box(h, after).await?;
            assert_no_crash(h).await
        })
        .await?;
        let posts = requests(h, "POST", |p| p == "/v1/messages").await?;
        assert_eq!(posts.len(), 4, "two refused, two sent: {posts:?}");
        Ok(())
    })
    .await;
}

/// A reply still on its way when the operator leaves its conversation and comes back shows as
/// sending there (an empty box, its text gone from it at Enter, invited typing it again), and
/// its answer, which comes after, settles it there: one message, no second send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_still_out_shows_as_sending_in_its_conversation_opened_again() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "latency_ms": 6000, "count": 1 }),
        )
        .await?;
        let other = another_row(h, &id).await?;
        clear_requests(h).await?;
        let text = "Refund approved, it is on its way";
        send_reply(h, text).await?;
        h.click(&format!("{ROW} a[href*='{other}']")).await?;
        wait_thread(h, &other).await?;
        h.click(&format!("{ROW} a[href*='{id}']")).await?;
        wait_thread(h, &id).await?;
        wait_message(h, text, "shown as sending", |m| m.local).await?;
        assert_eq!(
            message_posts(h).await?,
            Vec::<u16>::new(),
            "shown before its answer came"
        );
        assert_eq!(composer_value(h).await?, "");
        wait_message(h, text, "settled by its answer", |m| {
            m.id.is_some() && !m.local
        })
        .await?;
        assert_eq!(shown_with_body(h, text).await?.len(), 1, "shown once");
        assert_eq!(message_posts(h).await?, [201], "sent once");
        assert_no_crash(h).await
    })
    .await;
}

/// The operator opens `other`, then `id` again, whose view is live and has asked for its page
/// and its stream's opening refetch (so that a fetch asked for after this is the test's).
async fn leave_and_come_back(h: &Harness, id: &str, other: &str) -> Result<()> {
    h.click(&format!("{ROW} a[href*='{other}']")).await?;
    wait_thread(h, other).await?;
    clear_requests(h).await?;
    h.click(&format!("{ROW} a[href*='{id}']")).await?;
    wait_thread(h, id).await?;
    wait_attr(h, "#connection-status", "data-state", "live").await?;
    poll_until(
        "the page and the stream's opening refetch",
        SCREEN,
        || async { Ok((newest_page_requests(h, id).await?.len() >= 2).then_some(())) },
    )
    .await
}

/// A reply refused after the operator left its conversation and came back: the conversation
/// shown now is fetched again, as the view it was sent from would have been (the answer asked
/// that view, which had gone, and nothing was fetched), and its text is back in the reply box.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_refused_after_leaving_and_coming_back_refreshes_the_conversation_shown() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "status": 422, "latency_ms": 8000, "count": 1 }),
        )
        .await?;
        let other = another_row(h, &id).await?;
        let text = "Refused while the operator was away";
        send_reply(h, text).await?;
        leave_and_come_back(h, &id, &other).await?;
        wait_message(h, text, "shown as sending", |m| m.local).await?;
        clear_requests(h).await?;
        wait_reply_box(h, text).await?;
        poll_until("the conversation shown fetched again", SCREEN, || async {
            Ok((!newest_page_requests(h, &id).await?.is_empty()).then_some(()))
        })
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The same for a template: refused after the operator left and came back, the conversation
/// shown now is fetched again (the form takes the server's view), and shows the refusal, as
/// the view it was sent from would have (its form, kept, looked ready to send it again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_refused_after_leaving_and_coming_back_refreshes_the_conversation_shown() {
    with_harness(Options::default(), async |h: &Harness| {
        let whatsapp = taken_over_whatsapp(h, true).await?;
        let id = str_field(&whatsapp, "conversation_id")?;
        sign_in(h).await?;
        open_thread_live(h, &id).await?;
        h.wait_for("#template-name", SCREEN).await?;
        fault(
            h,
            json!({ "route": "POST /v1/messages/template", "status": 422, "latency_ms": 8000, "count": 1 }),
        )
        .await?;
        let other = another_row(h, &id).await?;
        h.fill("#template-name", "order_update").await?;
        h.fill("#template-parameters", "A-1042").await?;
        h.click("#template-send").await?;
        leave_and_come_back(h, &id, &other).await?;
        clear_requests(h).await?;
        poll_until("the template refused", SCREEN, || async {
            Ok((template_posts(h).await? == [422]).then_some(()))
        })
        .await?;
        poll_until("the conversation shown fetched again", SCREEN, || async {
            Ok((!newest_page_requests(h, &id).await?.is_empty()).then_some(()))
        })
        .await?;
        wait_text(h, "#template-error", "Sending the template failed", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Enter in the template's one-line fields goes on to the next field rather than sending the
/// form: a template is billed, and a name typed and Enter pressed (as in the reply box) sent it
/// without its parameters. The form's button still sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_in_the_templates_fields_goes_on_to_the_next_rather_than_sending() {
    with_harness(Options::default(), async |h: &Harness| {
        let whatsapp = taken_over_whatsapp(h, true).await?;
        let id = str_field(&whatsapp, "conversation_id")?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        h.fill("#template-name", "order_update").await?;
        clear_requests(h).await?;
        h.press(&[Key::Enter.into()]).await?;
        h.wait_focus_on("#template-language", SCREEN).await?;
        h.press(&[Key::Enter.into()]).await?;
        h.wait_focus_on("#template-parameters", SCREEN).await?;
        settle("no send", NO_RESEND).await;
        assert!(template_posts(h).await?.is_empty(), "nothing sent");
        h.fill("#template-parameters", "A-1042").await?;
        h.click("#template-send").await?;
        poll_until("the template sent", SCREEN, || async {
            Ok((template_posts(h).await? == [201]).then_some(()))
        })
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A reply, and a template, refused once the operator has moved on to another conversation:
/// the live region says so (the operator last saw "Sending…"), and where the reply's text is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_refused_once_the_operator_moved_on_says_so() {
    with_harness(Options::default(), async |h: &Harness| {
        let whatsapp = taken_over_whatsapp(h, true).await?;
        let wa_id = str_field(&whatsapp, "conversation_id")?;
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "status": 402, "latency_ms": 2000, "count": 1 }),
        )
        .await?;
        let other = row_ids(h)
            .await?
            .into_iter()
            .find(|r| *r != id && *r != wa_id)
            .ok_or_else(|| anyhow!("another row"))?;
        let text = "Refused after the operator moved on";
        send_reply(h, text).await?;
        h.click(&format!("{ROW} a[href*='{other}']")).await?;
        wait_thread(h, &other).await?;
        let said = wait_text(h, "#live-announcer", "was not sent", SCREEN).await?;
        assert!(
            said.contains("reply box"),
            "it says where the text is: {said:?}"
        );

        h.click(&format!("{ROW} a[href*='{wa_id}']")).await?;
        wait_thread(h, &wa_id).await?;
        h.wait_for("#template-name", SCREEN).await?;
        fault(
            h,
            json!({ "route": "POST /v1/messages/template", "status": 402, "latency_ms": 2000, "count": 1 }),
        )
        .await?;
        h.fill("#template-name", "order_update").await?;
        h.fill("#template-parameters", "A-1042").await?;
        h.click("#template-send").await?;
        h.click(&format!("{ROW} a[href*='{other}']")).await?;
        wait_thread(h, &other).await?;
        wait_text(h, "#live-announcer", "template", SCREEN).await?;
        wait_text(h, "#live-announcer", "was not sent", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A send the API does not answer (a host that drops packets) is given up after 30 s rather
/// than "Sending…" for as long as the system waits: it may have gone out, and says so (as no
/// answer in time), with Retry, its text kept with the draft.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_left_unanswered_is_given_up_and_kept() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "latency_ms": 45_000, "count": 1 }),
        )
        .await?;
        let text = "Unanswered: your parcel is on its way";
        send_reply(h, text).await?;
        wait_message(h, text, "sending", |m| m.local).await?;
        let said = poll_until("the send given up", Duration::from_secs(40), || async {
            Ok(h.texts("li.message.local .message-error")
                .await?
                .into_iter()
                .find(|t| t.contains("May not have been sent")))
        })
        .await?;
        // Said as what it is: no answer in time, not an address that could not be reached.
        assert!(said.contains("did not answer in time"), "{said}");
        h.wait_for("li.message.local .retry-send", SCREEN).await?;
        let item = draft_item(h, DEMO_KEY, &format!("{id}#unconfirmed"));
        let kept = storage_item(h, "sessionStorage", &item).await?;
        assert!(
            kept.unwrap_or_default().contains(text),
            "the text kept with the drafts, as a send that may have gone out"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A send answered `409` (API.md's duplicate: Voicebip has it already, maybe from a try whose
/// answer was lost) may have gone out, and says so: it was shown as "Not sent", its text kept
/// in the draft to send again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_said_to_be_a_duplicate_may_have_gone_out() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "status": 409, "count": 1 }),
        )
        .await?;
        let text = "Duplicate: your parcel is on its way";
        send_reply(h, text).await?;
        let said = poll_until("the send answered", SCREEN, || async {
            Ok(h.texts("li.message.local .message-error")
                .await?
                .into_iter()
                .find(|t| !t.is_empty()))
        })
        .await?;
        assert!(said.starts_with("May not have been sent"), "{said}");
        assert!(said.contains("has this already"), "{said}");
        let item = draft_item(h, DEMO_KEY, &id);
        let draft = storage_item(h, "sessionStorage", &item).await?;
        assert!(
            !draft.unwrap_or_default().contains(text),
            "not kept in the draft to be sent again"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// Sends `text` and waits until it "may not have been sent".
async fn send_in_question(h: &Harness, text: &str) -> Result<()> {
    send_reply(h, text).await?;
    wait_text(
        h,
        "li.message.local .message-error",
        "May not have been sent",
        SCREEN,
    )
    .await
    .map(drop)
}

/// Sends `text` while the API fails its POST once (a 503, not carried out), and waits until it
/// "may not have been sent": lost on its way, it is not among the conversation's messages.
async fn send_lost_on_its_way(h: &Harness, text: &str) -> Result<()> {
    fault(
        h,
        json!({ "route": "POST /v1/messages", "status": 503, "count": 1 }),
    )
    .await?;
    send_in_question(h, text).await
}

/// A human SMS conversation open in a signed-in console, and `text` sent to it: it went out,
/// but its answer was lost (a 504), the stream says nothing of it (API.md's need not stream
/// outbound messages) and the refetch after it failed (400: not tried again). The console
/// cannot know it went out until it looks. The conversation's id.
async fn send_gone_out_unseen(h: &Harness, text: &str) -> Result<String> {
    let conv = reachable(h, "human", "sms").await?;
    let id = str_field(&conv, "conversation_id")?;
    sign_in(h).await?;
    fault(
        h,
        json!({ "route": "GET /v1/conversations/{id}/stream", "stall_stream": true }),
    )
    .await?;
    open_thread_live(h, &id).await?;
    fault(
        h,
        json!({ "route": "POST /v1/messages", "status": 504, "carried_out": true, "count": 1 }),
    )
    .await?;
    fault(
        h,
        json!({ "route": "GET /v1/conversations/{id}", "status": 400, "count": 1 }),
    )
    .await?;
    send_in_question(h, text).await?;
    h.wait_for("#refresh-error", SCREEN).await?;
    Ok(id)
}

/// Presses the Retry of the send shown as failed, the log of requests cleared first.
async fn press_retry(h: &Harness) -> Result<()> {
    clear_requests(h).await?;
    h.click("li.message.local .retry-send").await
}

/// A send whose answer was lost went out all the same: its Retry finds its message among the
/// conversation's newest and sends nothing (the customer would read it twice). One that did
/// not go out is sent on Retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_sends_nothing_that_went_out_already() {
    with_harness(Options::default(), async |h: &Harness| {
        let text = "Went out, though its answer was lost";
        let id = send_gone_out_unseen(h, text).await?;
        press_retry(h).await?;
        wait_message(h, text, "shown as sent", |m| !m.local).await?;
        wait_text(h, "#live-announcer", "not sent again", SCREEN).await?;
        wait_gone(h, "#refresh-error", SCREEN).await?;
        settle("no send", NO_RESEND).await;
        assert!(message_posts(h).await?.is_empty(), "not sent twice");
        let held = api_conversation(h, &id).await?;
        let times = held["messages"]
            .as_array()
            .map_or(0, |m| m.iter().filter(|m| m["body"] == text).count());
        assert_eq!(times, 1, "the customer has it once");

        // Lost on its way, not carried out: not among the messages, so Retry sends it.
        let text = "Lost on its way, and sent on Retry";
        send_lost_on_its_way(h, text).await?;
        press_retry(h).await?;
        wait_message(h, text, "sent", |m| !m.local).await?;
        assert_eq!(message_posts(h).await?, [201]);
        assert_no_crash(h).await
    })
    .await;
}

/// Edit on a send whose answer was lost looks for it first, as Retry does: one that went out
/// is not put back in the reply box, whose next Enter would send it twice; one that did not is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_puts_back_nothing_that_went_out_already() {
    with_harness(Options::default(), async |h: &Harness| {
        let text = "Went out, though its answer was lost, and then edited";
        send_gone_out_unseen(h, text).await?;
        clear_requests(h).await?;
        h.click("li.message.local .edit-send").await?;
        wait_message(h, text, "shown as sent", |m| !m.local).await?;
        wait_text(h, "#live-announcer", "not sent again", SCREEN).await?;
        assert!(
            !composer_value(h).await?.contains(text),
            "not put back to be sent twice"
        );
        settle("no send", NO_RESEND).await;
        assert!(message_posts(h).await?.is_empty(), "not sent twice");

        // Lost on its way, not carried out: not among the messages, so Edit puts it back.
        let text = "Lost on its way, and edited";
        send_lost_on_its_way(h, text).await?;
        clear_requests(h).await?;
        h.click("li.message.local .edit-send").await?;
        wait_gone(h, "li.message.local", SCREEN).await?;
        assert_eq!(composer_value(h).await?, text, "back in the reply box");
        h.wait_focus_on("#composer-text", SCREEN).await?;
        assert!(message_posts(h).await?.is_empty(), "nothing sent by Edit");
        assert_no_crash(h).await
    })
    .await;
}

/// Enter held down sends once: its repeats send nothing more (nor a draft the focus comes to
/// while it is held).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_held_down_sends_once() {
    with_harness(Options::default(), async |h: &Harness| {
        open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "latency_ms": 300, "count": 1 }),
        )
        .await?;
        let text = "Held down: sent once";
        type_into_composer(h, text).await?;
        clear_requests(h).await?;
        // The keydowns a held Enter makes: the first, then its repeats, the box emptied by the
        // first and the text typed again meanwhile.
        h.browser()
            .execute(
                "const box = document.getElementById('composer-text');
                 const enter = repeat => box.dispatchEvent(new KeyboardEvent('keydown',
                   { key: 'Enter', bubbles: true, cancelable: true, repeat }));
                 enter(false);
                 box.value = arguments[0];
                 box.dispatchEvent(new Event('input', { bubbles: true }));
                 enter(true);
                 enter(true);",
                vec![json!(text)],
            )
            .await?;
        wait_message(h, text, "sent", |m| !m.local).await?;
        settle("a second send, were there one", NO_RESEND).await;
        assert_eq!(message_posts(h).await?, [201], "one send");
        assert_eq!(
            composer_value(h).await?,
            text,
            "the repeats left the box as it was"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A failed send's Retry, once the conversation has been handed back to the AI, does not send
/// the operator's text over the AI's answers: the text goes back into the reply box, which says
/// why it cannot be sent. (Its answer lost, it is looked for first: not there, it is put back.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_ai_took_back_over_is_not_sent() {
    with_harness(Options::default(), async |h: &Harness| {
        open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "status": 503, "count": 1 }),
        )
        .await?;
        let text = "A human answer, from before the handback";
        send_reply(h, text).await?;
        h.wait_for("li.message.local .retry-send", SCREEN).await?;
        h.click("#return-to-ai").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        clear_requests(h).await?;
        h.click("li.message.local .retry-send").await?;
        wait_gone(h, "li.message.local", SCREEN).await?;
        settle("no send", NO_RESEND).await;
        assert!(message_posts(h).await?.is_empty(), "nothing sent");
        assert_eq!(composer_value(h).await?, text, "the text back in the box");
        h.wait_for("#composer-disabled-reason", SCREEN).await?;
        wait_text(h, "#live-announcer", "back in the reply box", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A send in question (its answer lost) whose Retry is pressed once the conversation has been
/// handed back to the AI is looked for first: it went out, so its text is not put back into the
/// reply box, from where the next take-over would send it twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_handback_looks_for_a_send_in_question_first() {
    with_harness(Options::default(), async |h: &Harness| {
        let text = "Went out before the handback";
        send_gone_out_unseen(h, text).await?;
        h.click("#return-to-ai").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        press_retry(h).await?;
        wait_message(h, text, "shown as sent", |m| !m.local).await?;
        wait_text(h, "#live-announcer", "not sent again", SCREEN).await?;
        assert_eq!(
            composer_value(h).await?,
            "",
            "nothing put back to send again"
        );
        assert!(message_posts(h).await?.is_empty(), "not sent twice");
        assert_no_crash(h).await
    })
    .await;
}

/// Replies leave in the order they were sent: one held back by the rate limit is not overtaken
/// by the next, which the customer read first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_held_by_the_rate_limit_is_not_overtaken_by_the_next() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "force_429_retry_after": 3, "count": 1 }),
        )
        .await?;
        let (first, second) = (
            "First: your parcel left the depot",
            "Second: it arrives today",
        );
        send_held_by_the_rate_limit(h, first).await?;
        send_reply(h, second).await?;
        for text in [first, second] {
            wait_message(h, text, "sent", |m| m.id.is_some()).await?;
        }
        let stored: Vec<String> = api_conversation(h, &id).await?["messages"]
            .as_array()
            .ok_or_else(|| anyhow!("no messages"))?
            .iter()
            .rev()
            .filter(|m| m["body"] == first || m["body"] == second)
            .map(|m| str_field(m, "body"))
            .collect::<Result<_>>()?;
        assert_eq!(stored, [first, second], "in the order they were sent");
        assert_eq!(message_posts(h).await?, [429, 201, 201]);
        assert_no_crash(h).await
    })
    .await;
}

/// A reply waiting behind one held back by the rate limit is not sent either once the
/// conversation has been handed back to the AI: it went out the moment the held one gave up,
/// into the AI's conversation. Both texts come back, in the order they were sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_waiting_behind_a_held_one_is_not_sent_after_the_handback() {
    with_harness(Options::default(), async |h: &Harness| {
        open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "force_429_retry_after": 10, "count": 1 }),
        )
        .await?;
        let (first, second) = ("Held by the rate limit", "Waiting behind it");
        send_held_by_the_rate_limit(h, first).await?;
        send_reply(h, second).await?;
        h.click("#return-to-ai").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        wait_reply_box(h, &format!("{first}\n\n{second}")).await?;
        settle("no send", NO_RESEND).await;
        assert_eq!(message_posts(h).await?, [429], "neither sent");
        assert!(
            h.attrs("li.message.local", "class").await?.is_empty(),
            "no pending send"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A send the rate limit holds back (`Retry-After`) is not sent when its wait ends after the
/// conversation was handed back to the AI: the text goes back into the reply box instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_held_by_the_rate_limit_is_not_sent_after_the_handback() {
    with_harness(Options::default(), async |h: &Harness| {
        open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "force_429_retry_after": 10, "count": 1 }),
        )
        .await?;
        let text = "A human answer, held by the rate limit";
        send_held_by_the_rate_limit(h, text).await?;
        h.click("#return-to-ai").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        wait_reply_box(h, text).await?;
        wait_text(h, "#live-announcer", "Not sent", SCREEN).await?;
        settle("no send", NO_RESEND).await;
        assert_eq!(message_posts(h).await?, [429], "not sent after the wait");
        assert!(
            h.attrs("li.message.local", "class").await?.is_empty(),
            "no pending send"
        );
        h.wait_for("#composer-disabled-reason", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The same when the operator went to another conversation and came back before handing it
/// back: the wait was checked against the view it was sent from, which had gone, so it went out
/// into a conversation the AI answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_held_by_the_rate_limit_is_not_sent_after_leaving_and_a_handback() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "force_429_retry_after": 10, "count": 1 }),
        )
        .await?;
        let text = "A human answer, held while the operator looked elsewhere";
        send_held_by_the_rate_limit(h, text).await?;
        let other = another_row(h, &id).await?;
        for go in [&other, &id] {
            h.click(&format!("{ROW}[data-conversation-id='{go}'] a"))
                .await?;
            wait_thread(h, go).await?;
        }
        h.click("#return-to-ai").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        // Said as the handback's doing, not the rate limit's.
        let said = wait_text(h, "#live-announcer", "Not sent", Duration::from_secs(20)).await?;
        assert!(!said.contains("busy"), "{said:?}");
        settle("a send, were there one", NO_RESEND).await;
        assert_eq!(message_posts(h).await?, [429], "not sent after the wait");
        wait_reply_box(h, text).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A reply held back by the rate limit when another request finds the key refused: it is not
/// sent, and its text waits in the conversation's draft for the operator's next sign-in, as the
/// drafts of a refused key do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_held_when_the_key_is_refused_waits_for_the_next_sign_in() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "force_429_retry_after": 5, "count": 1 }),
        )
        .await?;
        let text = "Held as the key is refused";
        send_held_by_the_rate_limit(h, text).await?;
        fault(
            h,
            json!({ "route": "PATCH /v1/conversations/{id}", "status": 401 }),
        )
        .await?;
        h.click("#return-to-ai").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        settle("past the send's wait", Duration::from_secs(6)).await;
        assert_eq!(message_posts(h).await?, [429], "not sent without a session");
        clear_faults(h).await?;
        h.connect(DEMO_KEY).await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        open_thread(h, &id).await?;
        wait_reply_box(h, text).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A reply refused after its key was refused elsewhere, and another key signed in meanwhile
/// (the usual way back from a revoked key): its text is kept in the drafts, which the tab kept
/// for the next sign-in, and said so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_refusal_after_another_key_signed_in_keeps_the_text() {
    const SECOND_KEY: &str = "pk_test_second_key_of_the_workspace";
    let mut options = Options::default();
    options.sim.api_keys.push(SECOND_KEY.into());
    with_harness(options, async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "status": 402, "latency_ms": 10_000, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        let text = "Refused after the key was replaced";
        send_reply(h, text).await?;
        fault(
            h,
            json!({ "route": "PATCH /v1/conversations/{id}", "status": 401 }),
        )
        .await?;
        h.click("#return-to-ai").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        clear_faults(h).await?;
        h.connect(SECOND_KEY).await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        poll_until("the late refusal", SCREEN, || async {
            Ok(message_posts(h).await?.contains(&402).then_some(()))
        })
        .await?;
        wait_text(h, "#live-announcer", "was not sent", SCREEN).await?;
        open_thread(h, &id).await?;
        wait_reply_box(h, text).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A reply held back by the rate limit when the operator signs out is not sent with the key
/// signed out of, and its text goes with the other drafts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_held_at_a_sign_out_is_not_sent() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "force_429_retry_after": 4, "count": 1 }),
        )
        .await?;
        send_held_by_the_rate_limit(h, "Held as the operator signs out").await?;
        h.click("#sign-out").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        settle("past the send's wait", Duration::from_secs(5)).await;
        assert_eq!(
            message_posts(h).await?,
            [429],
            "not sent after the sign-out"
        );
        h.connect(DEMO_KEY).await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        open_thread(h, &id).await?;
        settle("a draft, were there one", Duration::from_millis(500)).await;
        assert_eq!(composer_value(h).await?, "", "forgotten with the sign-out");
        assert_no_crash(h).await
    })
    .await;
}

/// The window shuts at its end, not at the clock's next tick, up to 15 s on (a minute in a tab
/// the browser throttles): the badge says so within a moment of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_shuts_on_time() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "whatsapp").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        let browser_now = || async {
            let ms = h.browser().execute("return Date.now();", vec![]).await?;
            ms.as_f64().ok_or_else(|| anyhow!("Date.now() gave {ms}"))
        };
        // The end by the browser's clock, which the console reads.
        let end = browser_now().await? + 8_000.0;
        let end_text = h
            .browser()
            .execute(
                "return new Date(arguments[0]).toISOString();",
                vec![json!(end)],
            )
            .await?;
        h.sim_post(
            &format!("/sim/conversations/{id}/window"),
            &json!({ "expires_at": end_text }),
        )
        .await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#thread .window-state", "data-window", "closing").await?;
        poll_until("the window shut", Duration::from_secs(30), || async {
            Ok(
                attr_is(h, "#thread .window-state", "data-window", "expired")
                    .await?
                    .then_some(()),
            )
        })
        .await?;
        let late = browser_now().await? - end;
        assert!(late < 2_000.0, "shut {late} ms after its end");
        assert_no_crash(h).await
    })
    .await;
}

/// A template held back by the rate limit when the operator signs out is not sent (nor
/// billed) with the key signed out of, as a reply is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_held_at_a_sign_out_is_not_sent() {
    with_harness(Options::default(), async |h: &Harness| {
        let whatsapp = taken_over_whatsapp(h, true).await?;
        let id = str_field(&whatsapp, "conversation_id")?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        h.wait_for("#template-name", SCREEN).await?;
        fault(
            h,
            json!({ "route": "POST /v1/messages/template", "force_429_retry_after": 3, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        h.fill("#template-name", "order_update").await?;
        h.fill("#template-parameters", "A-1042").await?;
        h.click("#template-send").await?;
        poll_until("the template refused for the rate limit", SCREEN, || async {
            Ok((template_posts(h).await? == [429]).then_some(()))
        })
        .await?;
        h.click("#sign-out").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        settle("past the template's wait", Duration::from_secs(4)).await;
        assert_eq!(template_posts(h).await?, [429], "not sent after the sign-out");
        assert_no_crash(h).await
    })
    .await;
}

/// A reload while a send waits out the rate limit (never sent, then) keeps its text: it is
/// back in the reply box, not lost with the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_during_a_send_keeps_its_text() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "force_429_retry_after": 30, "count": 1 }),
        )
        .await?;
        let text = "Held by the rate limit as the page reloads";
        send_held_by_the_rate_limit(h, text).await?;
        assert_eq!(composer_value(h).await?, "", "the text is out, as a send");
        h.browser().refresh().await?;
        wait_thread(h, &id).await?;
        wait_reply_box(h, text).await?;
        settle("no send", NO_RESEND).await;
        assert_eq!(message_posts(h).await?, [429], "nothing sent by itself");

        // Also when the operator has moved on to another conversation by then.
        fault(
            h,
            json!({ "route": "POST /v1/messages", "force_429_retry_after": 30, "count": 1 }),
        )
        .await?;
        let again = "Held again, while another conversation is shown";
        send_reply(h, again).await?;
        poll_until("the second send refused", SCREEN, || async {
            Ok((message_posts(h).await? == [429, 429]).then_some(()))
        })
        .await?;
        let other = another_row(h, &id).await?;
        h.click(&format!("{ROW} a[href*='{other}']")).await?;
        wait_thread(h, &other).await?;
        h.browser().refresh().await?;
        wait_thread(h, &other).await?;
        open_thread(h, &id).await?;
        wait_reply_box(h, again).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A reload while a send is on its way (not held by the rate limit): its answer goes with the
/// page, and it may have gone out, so it comes back as "May not have been sent", with Retry,
/// not as the reply box's text, which the next Enter would send a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_while_a_send_is_on_its_way_keeps_it_in_question() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            // (Refused in the end: it does not go out, and is not settled by its message.)
            json!({ "route": "POST /v1/messages", "status": 503, "latency_ms": 10_000, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        let text = "On its way as the page reloads";
        send_reply(h, text).await?;
        wait_message(h, text, "sending", |m| m.local).await?;
        // What the page's going keeps, and a page back from the back/forward cache undoes (a
        // closed tab runs nothing after it; Chromium's reload settles the fetch it aborts
        // first, as an answer lost).
        let going = |persisted: bool| {
            format!(
                "window.dispatchEvent(new PageTransitionEvent('{}', {{ persisted: {persisted} }}));",
                if persisted { "pageshow" } else { "pagehide" }
            )
        };
        let item = draft_item(h, DEMO_KEY, &format!("{id}#unconfirmed"));
        h.browser().execute(&going(false), vec![]).await?;
        let kept = storage_item(h, "sessionStorage", &item).await?;
        assert!(kept.unwrap_or_default().contains(text), "kept as in question");
        assert_eq!(
            storage_item(h, "sessionStorage", &draft_item(h, DEMO_KEY, &id)).await?,
            None,
            "not as the reply box's text"
        );
        // Another tab of the conversation keeps one of its own meanwhile (as this one kept its
        // send: its words alone differ): the page back takes out only what its going added.
        let other = "Another tab's send in question";
        h.browser()
            .execute(
                "const [item, text, other] = arguments;
                 const kept = sessionStorage.getItem(item);
                 sessionStorage.setItem(item, kept + '\\u001e' + kept.replace(text, other));",
                vec![json!(item), json!(text), json!(other)],
            )
            .await?;
        h.browser().execute(&going(true), vec![]).await?;
        let kept = storage_item(h, "sessionStorage", &item)
            .await?
            .unwrap_or_default();
        assert!(
            kept.contains(other) && !kept.contains(text),
            "only what the going added is taken out: {kept:?}"
        );
        h.browser().refresh().await?;
        wait_thread(h, &id).await?;
        wait_text(
            h,
            "li.message.local .message-error",
            "May not have been sent",
            SCREEN,
        )
        .await?;
        assert_eq!(composer_value(h).await?, "", "not in the reply box");
        assert_no_crash(h).await
    })
    .await;
}

/// Several sends out at a reload come back in the order they were sent, ahead of what was being
/// typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_out_at_a_reload_come_back_oldest_first() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_human_sms_thread(
            h,
            json!({ "route": "POST /v1/messages", "force_429_retry_after": 30, "count": 2 }),
        )
        .await?;
        clear_requests(h).await?;
        for text in ["Sent first", "Sent second"] {
            send_reply(h, text).await?;
        }
        // The first held by the rate limit, the second waiting behind it (replies leave in
        // order).
        poll_until(
            "the first send refused for the rate limit",
            SCREEN,
            || async { Ok((message_posts(h).await? == [429]).then_some(())) },
        )
        .await?;
        settle("the second not sent", NO_RESEND).await;
        assert_eq!(message_posts(h).await?, [429], "the second waits its turn");
        let typing = "Still being typed";
        type_into_composer(h, typing).await?;
        poll_until("what is typed kept as the draft", SCREEN, || async {
            let kept = h
                .browser()
                .execute(
                    "return [localStorage, sessionStorage].some(s => Object.keys(s).some(
                        k => k.startsWith('voicebip.draft.') && s.getItem(k) === arguments[0]));",
                    vec![json!(typing)],
                )
                .await?;
            Ok((kept == json!(true)).then_some(()))
        })
        .await?;
        h.browser().refresh().await?;
        wait_thread(h, &id).await?;
        let value = poll_until("the texts back in the reply box", SCREEN, || async {
            let value = composer_value(h).await?;
            Ok((value.ends_with(typing) && value != typing).then_some(value))
        })
        .await?;
        assert_eq!(value, "Sent first\n\nSent second\n\nStill being typed");
        assert_no_crash(h).await
    })
    .await;
}

/// A send answered with a 5xx may have gone out all the same: it says so, keeps its Retry, and
/// once the stream shows a message with its text going out, that message takes its place (a
/// Retry would have sent it twice). Another client's send of the text stands in here for the
/// one whose answer was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_answer_was_lost_is_settled_by_its_message() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        let customer = str_field(&conv, "from_number")?;
        let agent_number = agent_number(h, &id).await?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;

        fault(
            h,
            json!({ "route": "POST /v1/messages", "status": 503, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        let text = "Your parcel left the depot";
        send_reply(h, text).await?;
        wait_message(h, text, "failed to send", |m| {
            m.local && m.status.as_deref() == Some("failed")
        })
        .await?;
        wait_text(
            h,
            "li.message.local .message-error",
            "May not have been sent",
            SCREEN,
        )
        .await?;
        h.wait_for("li.message.local .retry-send", SCREEN).await?;
        let described = h
            .browser()
            .execute(
                "const b = document.querySelector('li.message.local .retry-send');
                 return document.getElementById(b.getAttribute('aria-describedby')).textContent;",
                vec![],
            )
            .await?;
        assert_eq!(described.as_str(), Some(text), "Retry says which message");
        // The keyboard is on Retry as the message turns out to have gone.
        h.browser()
            .execute(
                "document.querySelector('li.message.local .retry-send').focus();",
                vec![],
            )
            .await?;

        let send = json!({
            "agent_id": str_field(&conv, "agent_id")?, "channel": "sms",
            "from_number": agent_number, "to_number": customer, "body": text,
        });
        h.api_post("/messages", &send, DEMO_KEY).await?;
        wait_gone(h, "li.message.local", SCREEN).await?;
        wait_message(h, text, "shown as sent", |m| m.id.is_some()).await?;
        assert_eq!(shown_with_body(h, text).await?.len(), 1);
        poll_until("the focus in the reply box, not lost", SCREEN, || async {
            let on = h
                .browser()
                .execute("return document.activeElement.id;", vec![])
                .await?;
            Ok((on.as_str() == Some("composer-text")).then_some(()))
        })
        .await?;
        let item = draft_item(h, DEMO_KEY, &id);
        poll_until("the settled text out of the kept draft", SCREEN, || async {
            let kept = storage_item(h, "sessionStorage", &item).await?;
            Ok((!kept.unwrap_or_default().contains(text)).then_some(()))
        })
        .await?;
        assert_eq!(message_posts(h).await?, [503, 201], "no second send");
        assert_no_crash(h).await
    })
    .await;
}

/// A send whose answer was lost stays one when the operator leaves its conversation: it comes
/// back as "May not have been sent", settled by its message if that has come (not as the reply
/// box's text, which the next Enter sent a second time), and so after a reload too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_answer_was_lost_stays_one_when_the_operator_leaves() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        let customer = str_field(&conv, "from_number")?;
        let agent_number = agent_number(h, &id).await?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        let other = another_row(h, &id).await?;

        // It went out after all, while the operator was elsewhere.
        let text = "Your parcel left the depot";
        send_lost_on_its_way(h, text).await?;
        h.click(&format!("{ROW} a[href*='{other}']")).await?;
        wait_thread(h, &other).await?;
        let send = json!({
            "agent_id": str_field(&conv, "agent_id")?, "channel": "sms",
            "from_number": agent_number, "to_number": customer, "body": text,
        });
        h.api_post("/messages", &send, DEMO_KEY).await?;
        h.click(&format!("{ROW} a[href*='{id}']")).await?;
        wait_thread(h, &id).await?;
        wait_message(h, text, "shown as sent", |m| m.id.is_some()).await?;
        assert_eq!(
            composer_value(h).await?,
            "",
            "not in the reply box to be sent again"
        );
        assert_eq!(
            count(h, "li.message.local").await?,
            0,
            "settled by its message"
        );
        // And no longer kept, to come back in question once its message is pages away.
        let item = draft_item(h, DEMO_KEY, &format!("{id}#unconfirmed"));
        poll_until("the settled send no longer kept", SCREEN, || async {
            let kept = storage_item(h, "sessionStorage", &item).await?;
            Ok((!kept.unwrap_or_default().contains(text)).then_some(()))
        })
        .await?;

        // Not come: after a reload, it is shown as it was.
        let again = "Your parcel is at the pickup point";
        send_lost_on_its_way(h, again).await?;
        h.browser().refresh().await?;
        wait_thread(h, &id).await?;
        wait_text(
            h,
            "li.message.local .message-error",
            "May not have been sent",
            SCREEN,
        )
        .await?;
        h.wait_for("li.message.local .retry-send", SCREEN).await?;
        assert_eq!(composer_value(h).await?, "");
        assert_no_crash(h).await
    })
    .await;
}

/// A send whose answer was lost while it went out (a gateway's 5xx after the API took it) is
/// settled by the API's newest page, asked for at once: the real API need stream no event for
/// an outbound message until its delivery, if ever, and until then the send's Retry invited
/// sending it twice. (The stream here stays open and silent, as the real one may.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_answer_was_lost_is_settled_by_a_refetch() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        let customer = str_field(&conv, "from_number")?;
        let agent_number = agent_number(h, &id).await?;
        sign_in(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}/stream", "stall_stream": true }),
        )
        .await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        fault(
            h,
            json!({ "route": "POST /v1/messages", "status": 503, "latency_ms": 3000, "count": 1 }),
        )
        .await?;
        let text = "Your refund was issued today";
        send_reply(h, text).await?;
        wait_message(h, text, "sending", |m| m.local).await?;
        // What the gateway's 503 hides: the API took the message.
        let send = json!({
            "agent_id": str_field(&conv, "agent_id")?, "channel": "sms",
            "from_number": agent_number, "to_number": customer, "body": text,
        });
        h.api_post("/messages", &send, DEMO_KEY).await?;
        wait_message(h, text, "shown as sent", |m| m.id.is_some()).await?;
        wait_gone(h, "li.message.local", SCREEN).await?;
        assert_eq!(
            shown_with_body(h, text).await?.len(),
            1,
            "shown once, as sent"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A reply refused because the customer opted out (their STOP unheard: the stream silent) locks
/// the reply box at once, saying why, also when the refetch that follows fails: it stayed open,
/// and each Retry or Enter went into the same refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_refused_for_an_opt_out_locks_the_reply_box_at_once() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}/stream", "stall_stream": true }),
        )
        .await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        inject(h, &id, "STOP").await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}", "status": 503 }),
        )
        .await?;
        let text = "Your order has shipped";
        send_reply(h, text).await?;
        wait_text(h, "#composer-disabled-reason", "opted out", SCREEN).await?;
        assert!(
            h.attrs("#composer-text", "readonly")
                .await?
                .remove(0)
                .is_some(),
            "the reply box is read-only"
        );
        assert_eq!(message_posts(h).await?, [422]);
        assert_no_crash(h).await
    })
    .await;
}

/// A template whose answer is lost (a 5xx, no answer) may have gone out: the console says so
/// and brings the thread up to date, instead of "failed", which invited a second, billed, send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_whose_answer_is_lost_may_have_been_sent() {
    with_harness(Options::default(), async |h: &Harness| {
        let whatsapp = taken_over_whatsapp(h, true).await?;
        let wa_id = str_field(&whatsapp, "conversation_id")?;
        sign_in(h).await?;
        // (Live first: the stream's opening refetch is not the one looked for.)
        open_thread_live(h, &wa_id).await?;
        h.wait_for("#template-name", SCREEN).await?;
        fault(
            h,
            json!({ "route": "POST /v1/messages/template", "status": 502, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        h.fill("#template-name", "order_update").await?;
        h.fill("#template-parameters", "A-1042").await?;
        h.click("#template-send").await?;
        wait_text(h, "#template-error", "may have been sent", SCREEN).await?;
        poll_until("the thread brought up to date", SCREEN, || async {
            let path = format!("/v1/conversations/{wa_id}");
            Ok((!requests(h, "GET", |p| p == path).await?.is_empty()).then_some(()))
        })
        .await?;
        // Handed back to the AI and taken over again: the warning stays (a handoff took it
        // away, and the form, its fields kept, looked ready to send the template again).
        h.click("#return-to-ai").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        settle("the handoff's quiet time", Duration::from_millis(1_200)).await;
        h.click("#take-over").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        wait_text(h, "#template-error", "may have been sent", SCREEN).await?;
        // Nor does a handoff that fails: its failure is shown beside it.
        fault(
            h,
            json!({ "route": "PATCH /v1/conversations/{id}", "status": 403, "count": 1 }),
        )
        .await?;
        settle("the handoff's quiet time", Duration::from_millis(1_200)).await;
        h.click("#return-to-ai").await?;
        wait_text(h, "#action-error", "Return to AI failed", SCREEN).await?;
        wait_text(h, "#template-error", "may have been sent", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Signs in, sends the template `order_update` with `A-1042` from a WhatsApp conversation whose
/// window has shut (its answer 10 s away), and goes to another conversation and back before the
/// answer: `(the conversation, the other)`.
async fn template_out_then_reopened(h: &Harness) -> Result<(String, String)> {
    let (wa_id, other, _) = template_out_then_left(h).await?;
    h.click(&format!("{ROW}[data-conversation-id='{wa_id}'] a"))
        .await?;
    wait_thread(h, &wa_id).await?;
    h.wait_for("#template-name", SCREEN).await?;
    Ok((wa_id, other))
}

/// A WhatsApp conversation the operator answers whose customer wrote, and whose window has shut
/// since: only a template can go.
async fn shut_whatsapp(h: &Harness) -> Result<Value> {
    let whatsapp = reachable(h, "human", "whatsapp").await?;
    let wa_id = str_field(&whatsapp, "conversation_id")?;
    inject(h, &wa_id, "Where is my order?").await?;
    h.sim_post(
        &format!("/sim/conversations/{wa_id}/window"),
        &json!({ "expired": true }),
    )
    .await?;
    Ok(whatsapp)
}

/// A reload while a template is on its way: its answer goes with the page, and the form comes
/// back with its fields, ready to send (and bill) the template again. The conversation says
/// that the template may have gone out, at every visit until the operator dismisses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_while_a_template_is_on_its_way_leaves_it_in_question() {
    with_harness(Options::default(), async |h: &Harness| {
        let wa_id = str_field(&shut_whatsapp(h).await?, "conversation_id")?;
        sign_in(h).await?;
        open_thread(h, &wa_id).await?;
        h.wait_for("#template-name", SCREEN).await?;
        fault(
            h,
            json!({ "route": "POST /v1/messages/template", "latency_ms": 10_000, "count": 1 }),
        )
        .await?;
        h.fill("#template-name", "order_update").await?;
        h.fill("#template-parameters", "A-1042").await?;
        h.click("#template-send").await?;
        wait_text(h, "#template-send", "Sending", SCREEN).await?;
        h.browser().refresh().await?;
        wait_thread(h, &wa_id).await?;
        wait_text(h, "#template-error", "may have gone out", SCREEN).await?;
        let name = h
            .wait_for("#template-name", SCREEN)
            .await?
            .prop("value")
            .await?;
        assert_eq!(name.as_deref(), Some("order_update"), "the form kept");
        // Said at every visit, until the operator has checked.
        h.browser().refresh().await?;
        wait_thread(h, &wa_id).await?;
        wait_text(h, "#template-error", "may have gone out", SCREEN).await?;
        h.click("#template-checked").await?;
        wait_gone(h, "#template-error", SCREEN).await?;
        h.browser().refresh().await?;
        wait_thread(h, &wa_id).await?;
        settle("the view's start", Duration::from_millis(500)).await;
        assert_eq!(count(h, "#template-error").await?, 0, "settled");
        assert_no_crash(h).await
    })
    .await;
}

/// A template sent (its answer 10 s late), then another conversation opened: the template's
/// conversation, that other one, and the customer's number.
async fn template_out_then_left(h: &Harness) -> Result<(String, String, String)> {
    let whatsapp = shut_whatsapp(h).await?;
    let wa_id = str_field(&whatsapp, "conversation_id")?;
    sign_in(h).await?;
    let other = row_ids(h)
        .await?
        .into_iter()
        .find(|c| *c != wa_id)
        .ok_or_else(|| anyhow!("no other conversation in the list"))?;
    let open = async |id: &str| {
        h.click(&format!("{ROW}[data-conversation-id='{id}'] a"))
            .await?;
        wait_thread(h, id).await
    };
    open(&wa_id).await?;
    h.wait_for("#template-name", SCREEN).await?;
    fault(
        h,
        json!({ "route": "POST /v1/messages/template", "latency_ms": 10_000, "count": 1 }),
    )
    .await?;
    clear_requests(h).await?;
    h.fill("#template-name", "order_update").await?;
    h.fill("#template-parameters", "A-1042").await?;
    h.click("#template-send").await?;
    open(&other).await?;
    Ok((wa_id, other, str_field(&whatsapp, "from_number")?))
}

/// A template answered once the operator is in another conversation is said with the number it
/// went to: a bare "Template sent" would sound as if it were about the conversation shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_answered_elsewhere_is_said_with_its_number() {
    with_harness(Options::default(), async |h: &Harness| {
        let (_, _, number) = template_out_then_left(h).await?;
        let said = wait_text(h, "#live-announcer", "template", SCREEN).await?;
        assert!(said.contains(&number), "{said:?} names {number}");
        assert_no_crash(h).await
    })
    .await;
}

/// Waits until the template's POST has been answered (201).
async fn wait_template_sent(h: &Harness) -> Result<()> {
    poll_until("the template answered", SCREEN, || async {
        Ok(template_posts(h).await?.contains(&201).then_some(()))
    })
    .await
}

/// A template sent, then the conversation left and reopened before the answer: the reopened
/// view's form shows the template on its way, and does not send it (billed) a second time; once
/// the answer comes, that form is emptied too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_answered_after_leaving_empties_the_form_shown() {
    with_harness(Options::default(), async |h: &Harness| {
        template_out_then_reopened(h).await?;
        // (Still out: the reopened form holds it, and sends nothing.)
        assert_eq!(template_fields(h).await?, json!(["order_update", "A-1042"]));
        h.click("#template-send").await?;
        settle("a second send, were there one", Duration::from_secs(1)).await;
        let answered = requests(h, "POST", |p| p == "/v1/messages/template").await?;
        assert!(answered.is_empty(), "nothing sent again: {answered:?}");
        wait_template_sent(h).await?;
        poll_until("the form emptied", SCREEN, || async {
            Ok((template_fields(h).await? == json!(["", ""])).then_some(()))
        })
        .await?;
        assert_eq!(template_posts(h).await?, [201], "one template sent");
        // Back in its conversation: said as there.
        wait_text(h, "#live-announcer", "Template sent", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The form stays editable while its template is on its way: what the operator changes there
/// meanwhile (a correction, or the next template) is theirs, and the answer does not empty it,
/// in the view shown nor in the draft kept for the conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_form_changed_while_it_was_sending_is_kept() {
    with_harness(Options::default(), async |h: &Harness| {
        let (wa_id, other) = template_out_then_reopened(h).await?;
        h.fill("#template-parameters", "A-1043").await?;
        wait_template_sent(h).await?;
        settle("the answer taken in", Duration::from_secs(1)).await;
        let changed = json!(["order_update", "A-1043"]);
        assert_eq!(template_fields(h).await?, changed, "in the view shown");
        for id in [&other, &wa_id] {
            h.click(&format!("{ROW}[data-conversation-id='{id}'] a"))
                .await?;
            wait_thread(h, id).await?;
        }
        h.wait_for("#template-name", SCREEN).await?;
        assert_eq!(template_fields(h).await?, changed, "in the draft kept");
        assert_eq!(template_posts(h).await?, [201], "one template sent");
        // Back in its conversation: said as there.
        wait_text(h, "#live-announcer", "Template sent", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A template with a parameter line left blank before a filled one is not sent, and the form
/// says which: the blank line was dropped, and the order number went out as `{{2}}`. A name of
/// spaces alone says so too; and a reply of invisible characters alone cannot be sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_goes_out_with_a_blank_in_it() {
    with_harness(Options::default(), async |h: &Harness| {
        let whatsapp = taken_over_whatsapp(h, true).await?;
        let wa_id = str_field(&whatsapp, "conversation_id")?;
        let sms =
            open_human_sms_thread(h, json!({ "route": "POST /v1/messages", "latency_ms": 0 }))
                .await?;
        type_into_composer(h, "\u{200B}\u{FEFF}").await?;
        // (Typed, not dropped on the way: an empty box is disabled anyway.)
        assert_eq!(composer_value(h).await?, "\u{200B}\u{FEFF}");
        assert!(disabled(h, "#composer-send").await?, "nothing to send");
        h.press(&[Key::Enter.into()]).await?;
        // (Answered at once, a send would be in the log by then.)
        settle("a reply, were there one", NO_RESEND).await;
        assert_eq!(
            requests(h, "POST", |p| p == "/v1/messages").await?.len(),
            0,
            "no reply sent from {sms} by Enter"
        );

        h.click(&format!("{ROW}[data-conversation-id='{wa_id}'] a"))
            .await?;
        wait_thread(h, &wa_id).await?;
        h.wait_for("#template-name", SCREEN).await?;
        clear_requests(h).await?;
        h.fill("#template-name", "   ").await?;
        h.fill("#template-parameters", "Ada\n\nA-1042").await?;
        h.click("#template-send").await?;
        let said = |css: &'static str| async move {
            let v = h
                .browser()
                .execute(
                    "return document.querySelector(arguments[0]).validationMessage;",
                    vec![json!(css)],
                )
                .await?;
            Ok::<_, voicebip_e2e::anyhow::Error>(v.as_str().unwrap_or_default().to_owned())
        };
        assert!(said("#template-name").await?.contains("name"));
        assert!(
            said("#template-parameters").await?.contains("Parameter 2"),
            "{:?}",
            said("#template-parameters").await?
        );
        h.fill("#template-name", "order_update").await?;
        h.click("#template-send").await?;
        settle("a send, were there one", NO_RESEND).await;
        assert_eq!(
            template_posts(h).await?,
            Vec::<u16>::new(),
            "no template sent"
        );
        assert_eq!(
            requests(h, "POST", |p| p == "/v1/messages").await?.len(),
            0,
            "no reply sent from {sms}"
        );
        assert_no_crash(h).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composer_says_why_it_is_disabled_and_sends_templates() {
    with_harness(Options::default(), async |h: &Harness| {
        let ai = reachable(h, "ai", "sms").await?;
        let opted_out = find_conversation(h, "opted out and not closed", |item, full| {
            item["opt_out"] == true && full["ai_mode"] != "closed"
        })
        .await?;
        let whatsapp = taken_over_whatsapp(h, true).await?;
        let wa_id = str_field(&whatsapp, "conversation_id")?;
        sign_in(h).await?;

        let cases: [(&Value, &str); 3] = [
            (&ai, "AiAnswering"),
            (&opted_out, "OptedOut"),
            (&whatsapp, "WindowExpired"),
        ];
        for (conv, reason) in cases {
            let id = str_field(conv, "conversation_id")?;
            // A draft kept from before (typed before the AI took back over, say): Send stays
            // disabled with text in the box, which it would not be for an empty one alone.
            h.browser()
                .execute(
                    "sessionStorage.setItem(arguments[0], 'Kept from before');",
                    vec![json!(draft_item(h, DEMO_KEY, &id))],
                )
                .await?;
            clear_requests(h).await?;
            open_thread(h, &id).await?;
            wait_attr(h, "#composer-disabled-reason", "data-reason", reason).await?;
            assert_eq!(composer_value(h).await?, "Kept from before", "{reason}: kept");
            let why = h.texts("#composer-disabled-reason").await?.join(" ");
            assert!(!why.is_empty(), "the reason {reason} is explained in words");
            assert!(
                disabled(h, "#composer-text").await?,
                "{reason}: the text box is disabled"
            );
            // (Disabled, not only marked so as for an empty box: it takes no press.)
            let send = h.wait_for("#composer-send", SCREEN).await?;
            assert_eq!(
                send.prop("disabled").await?.as_deref(),
                Some("true"),
                "{reason}: Send is disabled"
            );
            h.click("#composer-send").await?;
            settle("a reply, were there one", NO_RESEND).await;
            assert_eq!(
                requests(h, "POST", |p| p == "/v1/messages").await?.len(),
                0,
                "{reason}: nothing sent"
            );
            let banner = count(h, "#opt-out-banner").await?;
            assert_eq!(
                banner,
                usize::from(reason == "OptedOut"),
                "{reason}: opt-out banner"
            );
            let template = count(h, "form#template-form").await?;
            assert_eq!(
                template,
                usize::from(reason == "WindowExpired"),
                "{reason}: template form"
            );
            if reason == "WindowExpired" {
                let first = h
                    .browser()
                    .execute(
                        "const f = document.querySelector('form#template-form');
                         const c = document.querySelector('form#composer');
                         return !!(f.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING);",
                        vec![],
                    )
                    .await?;
                assert_eq!(
                    first,
                    json!(true),
                    "the template form, the one way to write, comes before the disabled reply box"
                );
            }
            // However tall the composer grows, the messages keep a good part of the pane.
            let share = h
                .browser()
                .execute(
                    "return document.querySelector('.message-scroller').clientHeight /
                        document.querySelector('.thread-pane').clientHeight;",
                    vec![],
                )
                .await?;
            assert!(
                share.as_f64().is_some_and(|s| s >= 1.0 / 3.0),
                "{reason}: the messages have {share} of the thread pane's height"
            );
        }

        // The expired WhatsApp thread (still open): an approved template goes out.
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        let outbound_before: Vec<String> = shown_messages(h)
            .await?
            .into_iter()
            .filter(|m| m.direction.as_deref() == Some("outbound"))
            .filter_map(|m| m.id)
            .collect();
        clear_requests(h).await?;
        h.fill("#template-name", "order_update").await?;
        h.fill("#template-language", "en").await?;
        h.fill("#template-parameters", "A-1042\nTomorrow").await?;
        // A double click, as an impatient operator makes: one template goes out (it is billed).
        // While it is on its way (the answer held back here), the button says so.
        fault(
            h,
            json!({ "route": "POST /v1/messages/template", "latency_ms": 5000, "count": 1 }),
        )
        .await?;
        h.click_rapidly("#template-send", 2).await?;
        wait_text(h, "#template-send", "Sending", SCREEN).await?;
        assert!(attr_is(h, "#template-send", "aria-disabled", "true").await?);
        let api_new = poll_until("the template in the API", SCREEN, || async {
            let api = api_conversation(h, &wa_id).await?;
            Ok(api["messages"]
                .as_array()
                .and_then(|ms| ms.iter().find(|m| m["message_type"] == "template"))
                .cloned())
        })
        .await?;
        assert_eq!(api_new["body"], "[template order_update] A-1042 | Tomorrow");
        let new_id = str_field(&api_new, "message_id")?;
        assert!(!outbound_before.contains(&new_id));
        let shown = poll_until("the template message in the thread", SCREEN, || async {
            Ok(shown_messages(h)
                .await?
                .into_iter()
                .find(|m| m.id.as_deref() == Some(new_id.as_str())))
        })
        .await?;
        assert_eq!(shown.direction.as_deref(), Some("outbound"));
        assert!(
            shown.body.contains("order_update"),
            "the template is recognisable: {shown:?}"
        );
        let posts = requests(h, "POST", |p| p == "/v1/messages/template").await?;
        assert_eq!(posts.len(), 1, "one template POST: {posts:?}");
        if count(h, "#template-send").await? > 0 {
            wait_text(h, "#template-send", "Send template", SCREEN).await?;
        }
        assert_eq!(posts[0].status, 201);
        assert_eq!(count(h, "#action-error, #template-error").await?, 0);

        // What the operator typed into the template form survives updates to the thread
        // arriving meanwhile (here: a read receipt for the template just sent).
        h.fill("#template-name", "delivery_reminder").await?;
        h.fill("#template-parameters", "Tomorrow 10am").await?;
        h.sim_post(
            &format!("/sim/conversations/{wa_id}/events"),
            &json!({ "event_type": "message.read",
                     "payload": { "message_id": new_id, "status": "read" } }),
        )
        .await?;
        wait_message(h, &shown.body, "read", |m| {
            m.status.as_deref() == Some("read")
        })
        .await?;
        let typed = template_fields(h).await?;
        assert_eq!(
            typed,
            json!(["delivery_reminder", "Tomorrow 10am"]),
            "a receipt arriving must not wipe the template form"
        );
        // Nor does a reload: the form is kept with the conversation's draft.
        h.browser().refresh().await?;
        wait_thread(h, &wa_id).await?;
        h.wait_for("#template-name", SCREEN).await?;
        assert_eq!(
            template_fields(h).await?,
            json!(["delivery_reminder", "Tomorrow 10am"]),
            "the template form kept through a reload"
        );
        wait_attr(h, "#connection-status", "data-state", "live").await?;

        // The customer writes back. The stream is how the console learns it: the list's polls
        // are refused from here on, so none of them can be what updates the row.
        let row = format!("{ROW}[data-conversation-id='{wa_id}']");
        wait_attr(h, &format!("{row} .window-state"), "data-window", "expired").await?;
        fault(h, json!({ "route": "GET /v1/conversations", "status": 503 })).await?;
        inject(h, &wa_id, "Hello again, any news on my order?").await?;
        poll_until("the reply box to open", SCREEN, || async {
            Ok((count(h, "#composer-disabled-reason").await? == 0
                && !disabled(h, "#composer-text").await?)
                .then_some(()))
        })
        .await?;
        wait_attr(h, "#thread .window-state", "data-window", "open").await?;
        wait_attr(h, &format!("{row} .window-state"), "data-window", "open").await?;
        wait_attr(h, &format!("{ROW}[data-index='0']"), "data-conversation-id", &wa_id).await?;
        let typed = template_fields(h).await?;
        assert_eq!(
            typed,
            json!(["delivery_reminder", "Tomorrow 10am"]),
            "the template being typed stays when the window reopens"
        );

        // STOP: the reply box and the row follow the opt-out the server records.
        inject(h, &wa_id, "STOP").await?;
        wait_attr(h, "#composer-disabled-reason", "data-reason", "OptedOut").await?;
        h.wait_for(&format!("{row} .opt-out-marker"), SCREEN).await?;
        assert_eq!(count(h, "#opt-out-banner").await?, 1);
        clear_faults(h).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A reply sent into a conversation closed elsewhere (unheard: its stream had died without a
/// word) after the customer wrote again: the API threads it into the customer's newer
/// conversation. It is shown there, not here, and the operator is told, with a link to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_went_to_the_newer_conversation_says_so() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        let stream = format!("GET /v1/conversations/{id}/stream");
        fault(h, json!({ "route": stream, "stall_stream": true })).await?;
        sign_in(h).await?;
        // The stream's opening refetches the thread (no replay): that answer is in before the
        // close below, or it would bring the close (the test's race, seen once in CI).
        open_thread_live(h, &id).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        settle("its answer to be read", Duration::from_millis(300)).await;
        h.api_patch(
            &format!("/conversations/{id}"),
            &json!({ "ai_mode": "closed" }),
            DEMO_KEY,
        )
        .await?;
        let newer = h
            .sim_post(
                "/sim/inbound",
                &json!({
                    "agent_id": str_field(&conv, "agent_id")?,
                    "channel": "sms",
                    "from_number": str_field(&conv, "from_number")?,
                    "body": "Hello again",
                }),
            )
            .await?;
        let newer = str_field(&newer, "conversation_id")?;
        assert_ne!(
            newer, id,
            "the customer's message started a new conversation"
        );
        assert!(
            attr_is(h, ".ai-mode-badge", "data-mode", "human").await?,
            "unheard"
        );

        let text = "Following up on your order";
        send_reply(h, text).await?;
        wait_text(h, "#sent-elsewhere", "newer conversation", SCREEN).await?;
        wait_text(h, "#live-announcer", "newer conversation", SCREEN).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "closed").await?;
        assert!(
            shown_with_body(h, text).await?.is_empty(),
            "not shown in the conversation it did not go to"
        );
        let link = h.attrs("#sent-elsewhere a", "href").await?;
        assert!(
            link.first()
                .cloned()
                .flatten()
                .is_some_and(|l| l.contains(&newer)),
            "a link to the newer conversation: {link:?}"
        );
        h.click("#sent-elsewhere a").await?;
        wait_thread(h, &newer).await?;
        wait_message(h, text, "shown in the newer conversation", |_| true).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A template refused for the conversation's state (closed elsewhere while the stream was
/// down) brings that state in: the conversation shows closed, and the form, kept for what was
/// typed in it, sends nothing more, where each press got the same refusal until the stream came
/// back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_refused_for_a_closed_conversation_shows_it_closed() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = taken_over_whatsapp(h, true).await?;
        let id = str_field(&conv, "conversation_id")?;
        // Open but silent: the close is not heard from it, and (live, as far as the console
        // knows) the thread does not refresh itself as it does while the stream is down.
        let stream = format!("GET /v1/conversations/{id}/stream");
        fault(h, json!({ "route": stream, "stall_stream": true })).await?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        h.wait_for("#template-name", SCREEN).await?;
        h.api_patch(
            &format!("/conversations/{id}"),
            &json!({ "ai_mode": "closed" }),
            DEMO_KEY,
        )
        .await?;
        clear_requests(h).await?;
        h.fill("#template-name", "order_update").await?;
        h.click("#template-send").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "closed").await?;
        // Brought in by the refusal: the conversation asked for after it.
        let asked: Vec<(String, u16)> = h
            .sim_requests()
            .await?
            .into_iter()
            .filter(|r| r.path == "/v1/messages/template" || r.path.ends_with(&id))
            .map(|r| (r.method, r.status))
            .collect();
        let refused = asked
            .iter()
            .position(|(m, s)| m == "POST" && *s == 422)
            .ok_or_else(|| anyhow!("the template refused: {asked:?}"))?;
        assert!(
            asked[refused + 1..].iter().any(|(m, _)| m == "GET"),
            "the conversation asked for after the refusal: {asked:?}"
        );
        wait_attr(h, "#template-send", "aria-disabled", "true").await?;
        assert!(disabled(h, "#template-name").await?, "read-only");
        h.click("#template-send").await?;
        settle("a second send, were there one", Duration::from_secs(1)).await;
        assert_eq!(
            template_posts(h).await?,
            [422],
            "refused once, not sent again"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A customer whose WhatsApp window has shut writes by SMS: the conversation is now on SMS, and
/// the reply box opens for an SMS reply at once, counting segments (it stayed shut, asking for a
/// paid template, with the channel the thread was opened on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_who_writes_by_sms_gets_an_sms_reply() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = taken_over_whatsapp(h, true).await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        wait_attr(
            h,
            "#composer-disabled-reason",
            "data-reason",
            "WindowExpired",
        )
        .await?;
        h.sim_post(
            "/sim/inbound",
            &json!({
                "agent_id": str_field(&conv, "agent_id")?,
                "channel": "sms",
                "from_number": str_field(&conv, "from_number")?,
                "body": "Texting you instead",
            }),
        )
        .await?;
        wait_message(h, "Texting you instead", "shown", |_| true).await?;
        wait_text(h, "#thread .channel-badge", "SMS", SCREEN).await?;
        wait_gone(h, "#composer-disabled-reason", SCREEN).await?;
        wait_gone(h, "#thread .window-state", SCREEN).await?;
        type_into_composer(h, "Thanks, got your text").await?;
        wait_counter(h, &["GSM-7", "1 segment"]).await?;
        clear_requests(h).await?;
        h.press(&[Key::Enter.into()]).await?;
        wait_message(h, "Thanks, got your text", "accepted", |m| {
            m.status.as_deref() != Some("failed") && !m.local
        })
        .await?;
        assert_eq!(message_posts(h).await?, [201], "sent as SMS, accepted");
        assert_no_crash(h).await
    })
    .await;
}

/// A reply held back by the rate limit goes where the customer is when it goes: one who wrote by
/// SMS meanwhile gets it by SMS, not on the WhatsApp the reply box was on when it was written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_held_by_the_rate_limit_follows_the_customer_to_sms() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = taken_over_whatsapp(h, false).await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        fault(
            h,
            json!({ "route": "POST /v1/messages", "force_429_retry_after": 3, "count": 1 }),
        )
        .await?;
        let text = "Your order ships today";
        send_held_by_the_rate_limit(h, text).await?;
        h.sim_post(
            "/sim/inbound",
            &json!({
                "agent_id": str_field(&conv, "agent_id")?,
                "channel": "sms",
                "from_number": str_field(&conv, "from_number")?,
                "body": "Texting you instead",
            }),
        )
        .await?;
        wait_text(h, "#thread .channel-badge", "SMS", SCREEN).await?;
        wait_message(h, text, "accepted", |m| !m.local).await?;
        // Written for WhatsApp: the operator is told it went by SMS (billed by the segment).
        wait_text(h, "#live-announcer", "was sent by SMS", SCREEN).await?;
        let api = api_conversation(h, &id).await?;
        let sent = api["messages"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["body"] == text))
            .ok_or_else(|| anyhow!("the reply is not in the conversation: {api}"))?;
        assert_eq!(sent["channel"], "sms", "sent where the customer now is");
        assert_eq!(message_posts(h).await?, [429, 201]);
        assert_no_crash(h).await
    })
    .await;
}

/// A send the server refuses for the conversation's state (here the WhatsApp window, closed by
/// the server's clock, which runs ahead of the device's): the message is marked failed, and the
/// reply box takes the server's view at once, with the template form (it stayed open for more
/// refusals).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_refused_for_the_window_shows_the_window_closed() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = taken_over_whatsapp(h, false).await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        wait_attr(h, "#thread .window-state", "data-window", "open").await?;
        // Closed by the server's clock, a day ahead of this device's: by the device's, the
        // window (and any refetch of it) still has hours to run.
        h.sim_post("/sim/clock", &json!({ "advance_seconds": 25 * 3600 }))
            .await?;
        send_reply(h, "Your parcel is with the courier").await?;
        wait_message(h, "Your parcel is with the courier", "failed", |m| {
            m.status.as_deref() == Some("failed")
        })
        .await?;
        // Shut as the refusal is shown, not at the page clock's next tick (every 15 s), until
        // which the box took more replies and said the window closes within the hour.
        poll_until(
            "the reply box shut with the refusal",
            Duration::from_secs(2),
            || async {
                let readonly = h.attrs("#composer-text", "readonly").await?;
                let closing = h.attrs("#window-closing", "id").await?;
                Ok(
                    (readonly.first().is_some_and(Option::is_some) && closing.is_empty())
                        .then_some(()),
                )
            },
        )
        .await?;
        wait_attr(
            h,
            "#composer-disabled-reason",
            "data-reason",
            "WindowExpired",
        )
        .await?;
        h.wait_for("form#template-form", SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}
