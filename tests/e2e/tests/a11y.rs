//! Accessibility: axe-core finds nothing on the connect screen, the inbox, a thread and the
//! close confirmation; the keyboard alone reaches every control an operator needs, and focus
//! is visible.

use crate::common::*;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use voicebip_e2e::anyhow::{Context, Result};
use voicebip_e2e::{poll_until, with_harness, Harness, Key, Options, DEMO_KEY};

/// What has focus: its id (or, for a row link, `row-link`) and whether its focus ring shows.
#[derive(Debug, Clone, Deserialize)]
struct Focused {
    name: String,
    outline_style: String,
    outline_width: String,
}

const FOCUSED: &str = r#"
const e = document.activeElement;
if (!e || e === document.body) return { name: 'body', outline_style: '', outline_width: '' };
const row = e.closest('li.conversation-row');
const cs = getComputedStyle(e);
return {
  name: row && e.tagName === 'A' ? 'row-link' : (e.id || e.tagName.toLowerCase()),
  outline_style: cs.outlineStyle,
  outline_width: cs.outlineWidth,
};
"#;

async fn focused(h: &Harness) -> Result<Focused> {
    let v = h.browser().execute(FOCUSED, vec![]).await?;
    serde_json::from_value(v).context("decoding the focused element")
}

/// Tab from the top of the page until `last` has focus (at most `limit` presses); returns
/// every element focused on the way.
async fn tab_until(h: &Harness, last: &str, limit: usize) -> Result<Vec<Focused>> {
    h.browser()
        .execute(
            "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);",
            vec![],
        )
        .await?;
    let mut seen = Vec::new();
    for _ in 0..limit {
        h.press(&[Key::Tab.into()]).await?;
        let f = focused(h).await?;
        let done = f.name == last;
        seen.push(f);
        if done {
            break;
        }
    }
    Ok(seen)
}

fn names(seen: &[Focused]) -> Vec<&str> {
    seen.iter().map(|f| f.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_clean_keyboard_reachable_focus_visible() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;

        h.open("/").await?;
        h.wait_for("form#connect-form", FIRST_SCREEN).await?;
        h.assert_no_axe_violations("the connect screen").await?;
        // The connect form works from the keyboard: Tab to the key, type, Enter.
        let seen = tab_until(h, "api-key", 10).await?;
        assert_eq!(
            seen.last().map(|f| f.name.as_str()),
            Some("api-key"),
            "Tab reaches the key field: {:?}",
            names(&seen)
        );
        poll_until("the base URL from config.json", SCREEN, || async {
            let v = h
                .browser()
                .execute(
                    "return document.getElementById('api-base-url').value;",
                    vec![],
                )
                .await?;
            Ok((!v.as_str().unwrap_or_default().is_empty()).then_some(()))
        })
        .await?;
        h.browser()
            .active_element()
            .await?
            .send_keys(DEMO_KEY)
            .await?;
        h.press(&[Key::Enter.into()]).await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        h.assert_no_axe_violations("the inbox").await?;

        open_thread(h, &id).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        h.assert_no_axe_violations("an open thread").await?;

        // Keyboard only: Tab reaches the filters, the list, the handoff buttons and the
        // composer, in that order, each with a visible focus ring.
        let seen = tab_until(h, "composer-text", 80).await?;
        let order = names(&seen);
        let position = |name: &str| order.iter().position(|n| *n == name);
        let wanted = [
            "filter-agent",
            "filter-channel",
            "row-link",
            "return-to-ai",
            "close-conversation",
            "composer-text",
        ];
        let mut previous = None;
        for name in wanted {
            let at = position(name);
            assert!(at.is_some(), "Tab never reaches {name}: {order:?}");
            assert!(
                previous < at,
                "{name} comes after the controls before it in Tab order: {order:?}"
            );
            previous = at;
        }
        for f in seen.iter().filter(|f| wanted.contains(&f.name.as_str())) {
            assert!(
                f.outline_style != "none" && f.outline_width != "0px",
                "focus is visible on {}: outline {} {}",
                f.name,
                f.outline_style,
                f.outline_width
            );
        }

        // The handoff buttons are named for what they do: their shortcuts are told as such
        // (aria-keyshortcuts), not run into the name ("CloseAlt+C").
        for (css, name) in [
            ("#return-to-ai", "Return to AI"),
            ("#close-conversation", "Close"),
        ] {
            assert_eq!(h.accessible_name(css).await?, name);
        }

        // The close confirmation, opened from the keyboard: focus moves into it, and it is
        // clean for axe too.
        tab_until(h, "close-conversation", 80).await?;
        h.press(&[Key::Enter.into()]).await?;
        h.wait_for("#confirm-close", SCREEN).await?;
        let role = h.attrs("#confirm-close", "role").await?;
        assert_eq!(role, [Some("alertdialog".to_string())]);
        let moved = std::time::Duration::from_secs(3);
        let in_dialog = wait_focus_in(h, "#confirm-close", moved).await;
        h.assert_no_axe_violations("the close confirmation").await?;
        let f = focused(h).await?;
        in_dialog.with_context(|| {
            format!("opening the close confirmation leaves focus on {f:?}, outside the dialog")
        })?;
        // The question keeps the keyboard until answered: Tab and Shift+Tab go round its two
        // buttons, and Escape, from either, answers it.
        for keys in [
            vec![Key::Tab.into()],
            vec![Key::Tab.into()],
            vec![Key::Shift.into(), Key::Tab.into()],
        ] {
            let before = focused(h).await?.name;
            h.press(&keys).await?;
            poll_until("the focus to move within the question", moved, || async {
                let now = focused(h).await?.name;
                let inside = focus_in(h, "#confirm-close").await?;
                Ok((now != before && inside).then_some(()))
            })
            .await?;
        }
        // (From the close button itself: answered "keep it open", not "close".)
        clear_requests(h).await?;
        h.press(&[Key::Escape.into()]).await?;
        poll_until("the question answered by Escape", moved, || async {
            Ok((count(h, "#confirm-close").await? == 0).then_some(()))
        })
        .await?;
        settle("a close, were there one", std::time::Duration::from_secs(1)).await;
        assert_eq!(requests(h, "PATCH", |_| true).await?.len(), 0, "not closed");
        assert_eq!(
            count(h, "#close-conversation").await?,
            1,
            "still open to close"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// Where the focus is: `row-<index>` for a row's link, `thread-pane` for the pane itself,
/// `back-link` for its link back to the list, else the focused element's id (`body` for none).
async fn focus_place(h: &Harness) -> Result<String> {
    let v = h
        .browser()
        .execute(
            "const e = document.activeElement;
             if (!e || e === document.body) return 'body';
             const row = e.closest('li.conversation-row');
             if (row && e.tagName === 'A') return 'row-' + row.getAttribute('data-index');
             for (const c of ['thread-pane', 'back-link']) if (e.classList.contains(c)) return c;
             return e.id;",
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

async fn wait_focus(h: &Harness, place: &str, what: &str) -> Result<()> {
    poll_until(what, SCREEN, || async {
        Ok((focus_place(h).await? == place).then_some(()))
    })
    .await
    .with_context(|| format!("the focus is on {:?}", place))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_and_leaving_a_conversation_keeps_the_keyboards_place() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let open_row = async |index: usize| -> Result<String> {
            let css = format!("li.conversation-row[data-index='{index}']");
            let id = h
                .attrs(&css, "data-conversation-id")
                .await?
                .into_iter()
                .flatten()
                .next()
                .with_context(|| format!("no row {index}"))?;
            h.browser()
                .execute(
                    &format!("document.querySelector(\"{css} a\").focus();"),
                    vec![],
                )
                .await?;
            wait_focus(h, &format!("row-{index}"), "the row focused").await?;
            h.press(&[Key::Enter.into()]).await?;
            wait_thread(h, &id).await?;
            Ok(id)
        };

        // Side by side, the list stays in view: opening a conversation leaves the focus on
        // its row, for j/k to go on.
        open_row(1).await?;
        settle(
            "a render after the thread's",
            std::time::Duration::from_millis(300),
        )
        .await;
        assert_eq!(focus_place(h).await?, "row-1", "the focus stays on the row");

        // One pane at a time (a narrow window or frame): the row goes out of view with the
        // list, so the focus goes to the conversation; leaving it brings the focus back to
        // the row, not to the page's start.
        h.browser().set_window_size(420, 800).await?;
        h.click(".back-link").await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        wait_focus(h, "row-1", "the focus back on the row left from").await?;
        open_row(2).await?;
        wait_focus(h, "thread-pane", "the focus on the conversation opened").await?;
        h.press(&[Key::Tab.into()]).await?;
        assert_eq!(
            focus_place(h).await?,
            "back-link",
            "Tab goes on inside the conversation, to its link back to the list first"
        );
        h.press(&[Key::Enter.into()]).await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        wait_focus(h, "row-2", "the focus back on the row").await?;
        h.assert_no_axe_violations("the narrow inbox").await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The keyboard keeps its place where the page changes under it: signing in lands in the
/// inbox's content; "Skip to content" skips past the top bar and the filters, to the list's row
/// or to the conversation, and stays on the conversation it was pressed on; the way
/// back to the list keeps the list's filters, and so the row left from; a reply box disabled
/// under the operator's typing hands the focus to why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyboard_keeps_its_place_when_the_page_changes_under_it() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        wait_focus(h, "main", "the focus in the inbox after signing in").await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        h.browser()
            .execute("document.querySelector('.skip-link').focus();", vec![])
            .await?;
        h.press(&[Key::Enter.into()]).await?;
        wait_focus(h, "row-0", "the focus skipped to the list").await?;

        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        let address = format!("/conversations/{id}");
        h.open(&format!("{address}?channel=sms")).await?;
        wait_thread(h, &id).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        h.browser()
            .execute("document.querySelector('.skip-link').focus();", vec![])
            .await?;
        h.press(&[Key::Enter.into()]).await?;
        wait_focus(h, "thread-pane", "the focus skipped to the conversation").await?;
        assert_eq!(h.path().await?, address, "still on the conversation");
        assert_eq!(url_query(h).await?, "channel=sms");
        wait_thread(h, &id).await?;

        // One pane at a time: back to the list under the same filter, onto the row left.
        h.browser().set_window_size(420, 800).await?;
        h.browser()
            .execute("document.querySelector('.back-link').focus();", vec![])
            .await?;
        h.press(&[Key::Enter.into()]).await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        assert_eq!(url_query(h).await?, "channel=sms", "the filter kept");
        poll_until("the focus back on the row left", SCREEN, || async {
            Ok(h.browser()
                .execute(
                    "const row = document.activeElement.closest('li.conversation-row');
                     return row && row.getAttribute('data-conversation-id');",
                    vec![],
                )
                .await?
                .as_str()
                .filter(|r| *r == id)
                .map(|_| ()))
        })
        .await?;

        // Typing a reply, the operator hands the conversation back to the AI (Alt+R): the
        // reply box is disabled, and the focus goes to the reason, not the page's start.
        h.browser().set_window_size(1280, 900).await?;
        h.open(&address).await?;
        wait_thread(h, &id).await?;
        h.wait_for("#composer-text", SCREEN)
            .await?
            .send_keys("Half a reply")
            .await?;
        h.press(&[Key::Alt.into(), 'r']).await?;
        h.wait_for("#composer-disabled-reason", SCREEN).await?;
        wait_focus(
            h,
            "composer-disabled-reason",
            "the focus on why the box is disabled",
        )
        .await?;

        // Taken over again from there (Alt+T, as the reason says): the reason goes, and the
        // focus goes to the reply box it had left, not to the page's start.
        settle("the handoff's debounce", Duration::from_millis(1_200)).await;
        h.press(&[Key::Alt.into(), 't']).await?;
        h.wait_for("#composer-text:not([readonly])", SCREEN).await?;
        wait_focus(h, "composer-text", "the focus back in the reply box").await?;

        // The same from the Send button, which is disabled too.
        h.wait_for("#composer-text:not([readonly])", SCREEN)
            .await?
            .click()
            .await?;
        h.press(&[Key::Tab.into()]).await?;
        wait_focus(h, "composer-send", "the focus on Send").await?;
        settle("the handoff's debounce", Duration::from_millis(1_200)).await;
        h.press(&[Key::Alt.into(), 'r']).await?;
        wait_focus(
            h,
            "composer-disabled-reason",
            "the focus on why Send is disabled",
        )
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A file's link keeps the focus when the message's receipt comes: the line is built again
/// with its new status, and the focus fell to the page's start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_files_link_keeps_the_focus_as_its_receipt_comes() {
    with_harness(Options::default(), async |h: &Harness| {
        // Sent 3 s after the send (which the stream then brings), delivered 3 s later.
        settings(h, json!({ "status_step_ms": 3_000 })).await?;
        let sent =
            open_and_send_an_image(h, "https://files.example.com/receipt.png", "Your receipt")
                .await?;
        let msg_id = str_field(&sent, "message_id")?;
        let line = format!("li[data-message-id='{msg_id}']");
        let link = format!("{line} a.media-link");
        h.wait_for(&link, SCREEN).await?;
        h.browser()
            .execute(
                "document.querySelector(arguments[0]).focus();",
                vec![json!(link)],
            )
            .await?;
        assert!(
            count(h, &format!("{line}.status-sent")).await? == 1,
            "focused before its delivery"
        );
        h.wait_for(&format!("{line}.status-delivered"), SCREEN)
            .await?;
        // (The line is built again by now; the focus comes back to its link within a frame.)
        wait_focus_in(h, &link, SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// An undelivered message's Edit button keeps the focus when the failure's code comes after its
/// receipt (a receipt without it, then the code): the message's line is built again, and the
/// focus fell to the page's start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_on_an_undelivered_message_keeps_the_focus_as_its_code_comes() {
    with_harness(Options::default(), async |h: &Harness| {
        // No receipts of the simulator's own while the test tells them.
        settings(h, json!({ "status_step_ms": 600_000 })).await?;
        let id = open_live(h, "human", "sms").await?;
        let text = "A reply the carrier will turn down";
        h.wait_for("#composer-text", SCREEN)
            .await?
            .send_keys(text)
            .await?;
        h.press(&[Key::Enter.into()]).await?;
        let sent = wait_message(h, text, "sent", |m| m.id.is_some()).await?;
        let msg_id = sent.id.context("its id")?;
        let failed = async |error_code: Option<&str>| {
            h.sim_post(
                &format!("/sim/conversations/{id}/events"),
                &json!({ "event_type": "message.failed",
                         "payload": { "message_id": msg_id, "status": "failed",
                                      "error_code": error_code } }),
            )
            .await
        };
        failed(None).await?;
        let edit = format!("li[data-message-id='{msg_id}'] .edit-undelivered");
        h.wait_for(&edit, SCREEN).await?;
        h.browser()
            .execute(
                "document.querySelector(arguments[0]).focus();",
                vec![json!(edit)],
            )
            .await?;
        failed(Some("CARRIER_REJECTED")).await?;
        wait_text(
            h,
            &format!("li[data-message-id='{msg_id}'] .message-error"),
            "CARRIER_REJECTED",
            SCREEN,
        )
        .await?;
        // (The line is built again by now; the focus comes back to it within a frame.)
        wait_focus_in(h, &edit, SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Notifications refused by the browser: the press is answered (the button says "blocked", and
/// why is read out), not left on "Notifications: off" as if it had not been heard. The browser's
/// question closed unanswered is no refusal: nothing blocked, and a press asks again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_the_browser_blocks_say_so() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        // The browser's answer, whatever this one's default for a headless profile.
        let answer =
            |a: &str| format!("Notification.requestPermission = () => Promise.resolve('{a}');");
        h.browser().execute(&answer("default"), vec![]).await?;
        h.click("#notify-toggle").await?;
        wait_text(h, "#live-announcer", "not answered", SCREEN).await?;
        let shown = h.texts("#notify-toggle").await?.concat();
        assert!(shown.contains(": off"), "the button shows: {shown:?}");
        assert!(
            !h.texts("#live-announcer")
                .await?
                .concat()
                .contains("blocked"),
            "a question closed unanswered is not said to be blocked"
        );
        h.browser().execute(&answer("denied"), vec![]).await?;
        h.click("#notify-toggle").await?;
        wait_text(h, "#notify-toggle", "blocked", SCREEN).await?;
        wait_text(h, "#live-announcer", "blocked by the browser", SCREEN).await?;
        wait_attr(h, "#notify-toggle", "aria-pressed", "false").await?;
        // A toggle's name stays the same, its state told by aria-pressed: "Notifications off,
        // toggle button, not pressed" said it twice, and a changing name reads as another button.
        assert_eq!(h.accessible_name("#notify-toggle").await?, "Notifications");
        h.assert_no_axe_violations("the inbox, notifications blocked")
            .await?;
        // A browser with no notifications at all (Safari's tabs on iPhone and iPad): said to
        // have none, not to block them (there is no setting to change).
        h.browser()
            .execute("delete window.Notification;", vec![])
            .await?;
        h.click("#notify-toggle").await?;
        wait_text(h, "#notify-toggle", "unavailable", SCREEN).await?;
        wait_text(
            h,
            "#live-announcer",
            "no notifications from a web page",
            SCREEN,
        )
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Records the frame's notifications (`window.notified`), and whether it is looked at as the
/// test says (`window.lookedAt`).
const RECORD_NOTIFICATIONS: &str = "window.notified = [];
     window.Notification = class {
       constructor(title, options) {
         window.notified.push(title);
         window.renotified = options.renotify;
       }
       static requestPermission() { return Promise.resolve('granted'); }
       static get permission() { return 'granted'; }
     };
     document.hasFocus = () => window.lookedAt;
     window.lookedAt = arguments[0];";

/// The same conversation open in two tabs: a customer's message is notified once, not by
/// each tab (two notifications and two tones), and not at all while the operator looks at
/// one of them, which shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_shown_in_two_tabs_is_notified_once() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        let path = format!("/conversations/{id}");
        two_consoles(h, &path, &path).await?;
        for frame in ["#a", "#b"] {
            in_frame(h, frame, async || {
                wait_thread(h, &id).await?;
                wait_attr(h, "#connection-status", "data-state", "live").await?;
                h.browser()
                    .execute(RECORD_NOTIFICATIONS, vec![json!(false)])
                    .await?;
                Ok(())
            })
            .await?;
        }
        in_frame(h, "#a", async || {
            h.click("#notify-toggle").await?;
            wait_attr(h, "#notify-toggle", "aria-pressed", "true").await
        })
        .await?;
        in_frame(h, "#b", async || {
            wait_attr(h, "#notify-toggle", "aria-pressed", "true").await
        })
        .await?;
        let notified = async || {
            let mut n = 0;
            for frame in ["#a", "#b"] {
                n += in_frame(h, frame, async || {
                    let v = h
                        .browser()
                        .execute("return window.notified.length;", vec![])
                        .await?;
                    Ok(v.as_u64().unwrap_or_default())
                })
                .await?;
            }
            Ok::<_, voicebip_e2e::anyhow::Error>(n)
        };
        inject(h, &id, "Is anyone there?").await?;
        poll_until("the message notified", SCREEN, || async {
            Ok((notified().await? >= 1).then_some(()))
        })
        .await?;
        settle(
            "a second notification, were there one",
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(notified().await?, 1, "once on the device");

        // Looked at in one of them: none.
        in_frame(h, "#b", async || {
            h.browser()
                .execute("window.lookedAt = true;", vec![])
                .await?;
            Ok(())
        })
        .await?;
        inject(h, &id, "Hello again").await?;
        for frame in ["#a", "#b"] {
            in_frame(h, frame, async || {
                wait_text(h, "ol#messages", "Hello again", SCREEN)
                    .await
                    .map(drop)
            })
            .await?;
        }
        settle("a notification, were there one", Duration::from_secs(1)).await;
        assert_eq!(notified().await?, 1, "none while one tab is looked at");
        Ok(())
    })
    .await;
}

/// A customer's message in a conversation the operator has taken over is notified while the
/// operator is not looking at the console, and not while they are: the thread shows it, and
/// reads it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_notified_only_while_the_console_is_not_looked_at() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        h.browser()
            .execute(RECORD_NOTIFICATIONS, vec![json!(true)])
            .await?;
        h.click("#notify-toggle").await?;
        wait_attr(h, "#notify-toggle", "aria-pressed", "true").await?;
        let notified = || async {
            let v = h
                .browser()
                .execute("return window.notified.length;", vec![])
                .await?;
            Ok::<_, voicebip_e2e::anyhow::Error>(v)
        };
        inject(h, &id, "Are you still there?").await?;
        wait_text(h, "ol#messages", "Are you still there?", SCREEN).await?;
        // (Past the wait before a tab not looked at notifies, half a second.)
        settle("a notification, were there one", Duration::from_millis(1_200)).await;
        assert_eq!(notified().await?, json!(0), "looked at: none");
        h.browser()
            .execute("window.lookedAt = false;", vec![])
            .await?;
        inject(h, &id, "Hello?").await?;
        poll_until("the message notified", SCREEN, || async {
            Ok((notified().await? == json!(1)).then_some(()))
        })
        .await?;
        // A second message from the customer is shown again, not swapped in unseen.
        let renotified = h
            .browser()
            .execute("return window.renotified;", vec![])
            .await?;
        assert_eq!(renotified, json!(true));

        // Taken back in the browser's settings during the shift: the button says so, and no
        // notification is tried.
        h.browser()
            .execute(
                "Object.defineProperty(window.Notification, 'permission', { get: () => 'denied' });",
                vec![],
            )
            .await?;
        inject(h, &id, "Anyone?").await?;
        wait_attr(h, "#notify-toggle", "aria-pressed", "false").await?;
        wait_text(h, "#notify-toggle", "blocked", SCREEN).await?;
        assert_eq!(notified().await?, json!(1), "none tried once refused");

        // A browser that shows none from a page (Chrome on Android), the permission granted:
        // "unavailable", and a press says why rather than ask again.
        h.browser()
            .execute(
                "window.Notification = class {
                   constructor() { throw new TypeError('Illegal constructor'); }
                   static requestPermission() { return Promise.resolve('granted'); }
                   static get permission() { return 'granted'; }
                 };",
                vec![],
            )
            .await?;
        h.click("#notify-toggle").await?;
        wait_attr(h, "#notify-toggle", "aria-pressed", "true").await?;
        inject(h, &id, "Still there?").await?;
        wait_text(h, "#notify-toggle", "unavailable", SCREEN).await?;
        h.click("#notify-toggle").await?;
        wait_text(h, "#live-announcer", "no notifications from a web page", SCREEN).await?;
        assert!(attr_is(h, "#notify-toggle", "aria-pressed", "false").await?);
        assert_no_crash(h).await
    })
    .await;
}

/// Notifications turned on or off in one tab are so in the others (one setting for the
/// device): the other tab went on notifying, its button saying so, until it was reloaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_turned_on_or_off_in_one_tab_are_so_in_the_others() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in_remembered(h, DEMO_KEY).await?;
        two_consoles(h, "/conversations", "/conversations").await?;
        for frame in ["#a", "#b"] {
            in_frame(h, frame, async || {
                h.wait_for("#notify-toggle", SCREEN).await?;
                h.browser()
                    .execute(
                        "window.Notification = class {
                           static requestPermission() { return Promise.resolve('granted'); }
                           static get permission() { return 'granted'; }
                         };",
                        vec![],
                    )
                    .await?;
                Ok(())
            })
            .await?;
        }
        for (by, seen, on) in [("#a", "#b", "true"), ("#b", "#a", "false")] {
            in_frame(h, by, async || {
                h.click("#notify-toggle").await?;
                wait_attr(h, "#notify-toggle", "aria-pressed", on).await
            })
            .await?;
            in_frame(h, seen, async || {
                wait_attr(h, "#notify-toggle", "aria-pressed", on).await
            })
            .await
            .with_context(|| format!("turned {on} in {by}, seen in {seen}"))?;
        }
        Ok(())
    })
    .await;
}

/// Keeps the notifications shown (`window.shown`: each with its title, tag and whether it was
/// closed), the console not looked at.
const KEEP_NOTIFICATIONS: &str = "window.shown = [];
     window.Notification = class {
       constructor(title, options) {
         this.title = title;
         this.tag = options.tag;
         this.closed = false;
         window.shown.push(this);
       }
       close() { this.closed = true; }
       static requestPermission() { return Promise.resolve('granted'); }
       static get permission() { return 'granted'; }
     };
     document.hasFocus = () => false;";

/// A notification clicked after the tab has moved on to another conversation opens its own,
/// where it brought forward whatever the tab showed; and signing out takes the notifications
/// away, where a customer's words stayed on the device's screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_opens_its_conversation_and_goes_at_sign_out() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        open_thread_live(h, &id).await?;
        h.browser().execute(KEEP_NOTIFICATIONS, vec![]).await?;
        h.click("#notify-toggle").await?;
        wait_attr(h, "#notify-toggle", "aria-pressed", "true").await?;
        let shown = || async {
            let v = h
                .browser()
                .execute(
                    "return window.shown.map(n => [n.title, n.tag, n.closed]);",
                    vec![],
                )
                .await?;
            Ok::<_, voicebip_e2e::anyhow::Error>(serde_json::from_value::<
                Vec<(String, String, bool)>,
            >(v)?)
        };
        inject(h, &id, "Is my order on its way?").await?;
        poll_until("the message notified", SCREEN, || async {
            Ok((shown().await?.len() == 1).then_some(()))
        })
        .await?;
        assert_eq!(shown().await?[0].1, id, "tagged with its conversation");

        // The tab moves on to another conversation, in a filtered list; the notification is
        // clicked.
        select(h, "select#filter-channel", "sms").await?;
        poll_until("the SMS list", SCREEN, || async {
            Ok((url_query(h).await? == "channel=sms").then_some(()))
        })
        .await?;
        h.wait_for_all(ROW, 2, SCREEN).await?;
        let other = row_ids(h)
            .await?
            .into_iter()
            .find(|r| *r != id)
            .context("another conversation")?;
        h.click(&format!("{ROW}[data-conversation-id='{other}'] a"))
            .await?;
        wait_thread(h, &other).await?;
        h.browser()
            .execute(
                "const n = window.shown[0]; n.onclick({ target: n });",
                vec![],
            )
            .await?;
        wait_thread(h, &id).await?;
        assert!(shown().await?[0].2, "closed once clicked");
        assert_eq!(
            url_query(h).await?,
            "channel=sms",
            "the list's filters kept"
        );

        // Another message, notified; then the operator signs out.
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        inject(h, &id, "Hello?").await?;
        poll_until("the second message notified", SCREEN, || async {
            Ok((shown().await?.len() == 2).then_some(()))
        })
        .await?;
        assert!(!shown().await?[1].2, "on screen");
        h.click("#sign-out").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        assert!(shown().await?[1].2, "taken away at the sign-out");
        assert_no_crash(h).await
    })
    .await;
}

/// Zoomed to 200% on a laptop (1366×768 shows as 683×384 CSS pixels, less the browser's
/// bars): the conversation keeps room to read its messages, the reply box and the handoff
/// buttons still reachable. The header, buttons and reply box took the whole height, and the
/// messages shrank to nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zoomed_in_thread_keeps_its_messages_readable() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        h.browser().set_window_size(683, 384).await?;
        open_thread(h, &id).await?;
        h.wait_for("#composer-text", SCREEN).await?;
        let height = h
            .browser()
            .execute(
                "return document.querySelector('.message-scroller').clientHeight;",
                vec![],
            )
            .await?;
        assert!(
            height.as_f64().is_some_and(|px| px >= 120.0),
            "the messages have {height} px"
        );
        // Reachable: each can be scrolled fully into view (the page, or a pane, scrolls to it),
        // not cut off below a page that cannot scroll.
        let hidden = h
            .browser()
            .execute(
                "return ['#composer-text', '#composer-send', '.handoff-bar button']
                   .map(css => document.querySelector(css))
                   .map(e => {
                     e.scrollIntoView({ block: 'nearest', behavior: 'instant' });
                     const r = e.getBoundingClientRect();
                     const out = r.height === 0 || r.top < -1 || r.bottom > window.innerHeight + 1
                       || r.left < -1 || r.right > window.innerWidth + 1;
                     // Brought there by a scroll the operator can make too (not one of an
                     // `overflow: hidden` box, which only a script scrolls).
                     const fixed = n => ['hidden', 'clip'].includes(getComputedStyle(n).overflowY);
                     let stuck = window.scrollY > 0
                       && (fixed(document.documentElement) || fixed(document.body));
                     for (let n = e.parentElement; n; n = n.parentElement) {
                       stuck ||= n.scrollTop > 0 && fixed(n);
                     }
                     const name = e.id || e.className;
                     return out ? `${name}: ${r.top}..${r.bottom} of ${window.innerHeight}`
                       : stuck ? `${name}: behind a box that does not scroll` : null;
                   })
                   .filter(e => e);",
                vec![],
            )
            .await?;
        assert_eq!(hidden, json!([]), "out of reach at 200%");
        h.assert_no_axe_violations("a thread at 200%").await?;
        assert_no_crash(h).await
    })
    .await;
}

/// In forced colours (a high-contrast theme), which drop backgrounds and shadows, the open
/// conversation's row keeps a mark of its own, and every button an edge (its background, often
/// the page's own colour there, was all that showed it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_row_and_the_buttons_are_marked_in_forced_colours() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "ai", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        sign_in(h).await?;
        open_thread(h, &id).await?;
        let row = format!("{ROW}.selected a");
        h.wait_for(&row, SCREEN).await?;
        let mark = || async {
            let v = h
                .browser()
                .execute(
                    "return getComputedStyle(document.querySelector(arguments[0])).borderLeftStyle;",
                    vec![json!(row)],
                )
                .await?;
            Ok::<_, voicebip_e2e::anyhow::Error>(v)
        };
        assert_eq!(mark().await?, json!("none"), "a tint and a shadow, in colour");
        h.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "forced-colors", "value": "active" }] }),
        )
        .await?;
        assert_eq!(mark().await?, json!("solid"), "a border of its own");
        let edgeless = h
            .browser()
            .execute(
                "return [...document.querySelectorAll('button')]
                   .filter(b => b.offsetParent && getComputedStyle(b).borderTopStyle !== 'solid')
                   .map(b => b.id || b.textContent);",
                vec![],
            )
            .await?;
        assert_eq!(edgeless, json!([]), "buttons without an edge");
        assert_no_crash(h).await
    })
    .await;
}

/// Each form control's edge, all that shows where a field is on its panel, has 3:1 against
/// the field's background (WCAG 1.4.11), light and dark: axe does not check it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_controls_stand_out_from_their_background() {
    with_harness(Options::default(), async |h: &Harness| {
        let faint = || async {
            let v = h
                .browser()
                .execute(
                    "const rgba = c => {
                       const v = c.match(/[\\d.]+/g).map(Number);
                       return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
                     };
                     // A colour seen over an opaque one: a faint edge is as faint as it looks.
                     const over = (top, under) =>
                       [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
                     // What shows behind (and through) an element: its own background and its
                     // ancestors', down to the first opaque one (else the canvas, white).
                     const backdrop = e => {
                       const layers = [];
                       for (let n = e; n; n = n.parentElement) {
                         const c = rgba(getComputedStyle(n).backgroundColor);
                         if (c[3] > 0) layers.push(c);
                         if (c[3] >= 1) break;
                       }
                       return layers.reverse().reduce((under, c) => over(c, under), [255, 255, 255, 1]);
                     };
                     const lum = c => {
                       const [r, g, b] = c.slice(0, 3).map(v => {
                         v /= 255;
                         return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
                       });
                       return 0.2126 * r + 0.7152 * g + 0.0722 * b;
                     };
                     const ratio = (a, b) => {
                       const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
                       return (x + 0.05) / (y + 0.05);
                     };
                     return [...document.querySelectorAll('input:not([type=checkbox]), select, textarea')]
                       .filter(e => e.offsetParent)
                       .map(e => {
                         const under = backdrop(e);
                         const edge = over(rgba(getComputedStyle(e).borderTopColor), under);
                         return [e.id, ratio(edge, under)];
                       })
                       .filter(([, r]) => r < 3)
                       .map(([id, r]) => `${id} ${r.toFixed(2)}:1`);",
                    vec![],
                )
                .await?;
            Ok::<_, voicebip_e2e::anyhow::Error>(v)
        };
        for scheme in ["light", "dark"] {
            h.open("/").await?;
            h.wait_for("#api-key", FIRST_SCREEN).await?;
            h.cdp(
                "Emulation.setEmulatedMedia",
                json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
            )
            .await?;
            assert_eq!(faint().await?, json!([]), "the connect screen, {scheme}");
        }
        sign_in(h).await?;
        h.wait_for("select#filter-channel", SCREEN).await?;
        h.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": "dark" }] }),
        )
        .await?;
        assert_eq!(faint().await?, json!([]), "the inbox, dark");
        assert_no_crash(h).await
    })
    .await;
}
