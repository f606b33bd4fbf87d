//! Embedded in another tool's page: the simulator's demo host page (its own origin, the only one
//! in `embed_allowed_origins`) iframes the console at 360 px and hands it the key over
//! `postMessage`. The console must answer that page, keep it informed (mode changes, unread
//! count, height), stay usable at 360 px, and give a page on any other origin nothing.

use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use voicebip_e2e::anyhow::{anyhow, bail, Context, Result};
use voicebip_e2e::{
    describe_violations, poll_until, with_harness, Harness, Options, SimConfig, DEMO_KEY,
};

const FRAME: &str = "iframe#console-frame";
const WIDTH: u32 = 360;

fn options() -> Options {
    Options {
        sim: SimConfig {
            embed_host: true,
            traffic_per_minute: 0.0,
            ..SimConfig::default()
        },
        ..Options::default()
    }
}

/// The options, with the simulator taking `second` too: a key the host page hands over next.
fn options_with_second_key(second: &str) -> Options {
    let mut options = options();
    options.sim.api_keys.push(second.into());
    options
}

fn origin(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}

/// Open the demo host page (`foreign`: the one on the origin that is not allowed) embedding
/// `path`, in the top-level browsing context.
async fn open_host(h: &Harness, foreign: bool, path: &str) -> Result<String> {
    let url = if foreign {
        h.sim().foreign_host_url()
    } else {
        h.sim().embed_host_url()
    }
    .context("the simulator serves the embedding demo")?;
    h.browser()
        .goto(&format!("{url}?path={path}&width={WIDTH}"))
        .await
        .with_context(|| format!("opening the host page {url}"))?;
    h.wait_for(FRAME, FIRST_SCREEN).await?;
    Ok(origin(&url))
}

/// Opens the allowed host page on the embedded inbox and waits until it has connected the
/// console; the console's origin.
async fn open_connected_host(h: &Harness) -> Result<String> {
    open_host(h, false, "/embed/inbox").await?;
    let console = h.base_url().to_string();
    wait_host_message(h, "voicebip:connected", |m| {
        is(m, &console, "voicebip:connected")
    })
    .await?;
    Ok(console)
}

/// [`open_connected_host`], and the console's rows shown (the frame entered and left again): a
/// key in use, before the host hands over the next.
async fn open_host_showing_rows(h: &Harness) -> Result<String> {
    let console = open_connected_host(h).await?;
    enter_console(h).await?;
    h.wait_for_all(ROW, 1, SCREEN).await?;
    leave_console(h).await?;
    Ok(console)
}

/// Switch WebDriver into the console's iframe.
async fn enter_console(h: &Harness) -> Result<()> {
    let frame = h.wait_for(FRAME, SCREEN).await?;
    frame
        .enter_frame()
        .await
        .context("switching into the console's iframe")?;
    Ok(())
}

/// Back to the host page.
async fn leave_console(h: &Harness) -> Result<()> {
    h.browser()
        .enter_parent_frame()
        .await
        .context("switching back to the host page")?;
    Ok(())
}

/// What the host page received so far: `{origin, data}` per message (host page context).
async fn host_messages(h: &Harness) -> Result<Vec<Value>> {
    let v = h
        .browser()
        .execute("return window.hostMessages || [];", vec![])
        .await?;
    Ok(serde_json::from_value(v)?)
}

fn types(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m["data"]["type"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// Wait until the host page received a message from the console that satisfies `pred`.
async fn wait_host_message(
    h: &Harness,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let found = poll_until(what, SCREEN, || async {
        Ok(host_messages(h).await?.into_iter().find(|m| pred(m)))
    })
    .await;
    match found {
        Ok(m) => Ok(m),
        Err(e) => {
            let seen = host_messages(h).await.unwrap_or_default();
            Err(e.context(format!("the host page received: {seen:#?}")))
        }
    }
}

/// The host page hands the connected console `key`; waits until it has connected with it.
async fn connect_again(h: &Harness, console: &str, key: &str) -> Result<()> {
    h.fill("#host-key", key).await?;
    h.click("#host-connect").await?;
    poll_until("connected a second time", SCREEN, || async {
        let connected = host_told(h, console, "voicebip:connected").await?;
        Ok((connected >= 2).then_some(()))
    })
    .await
}

fn is(m: &Value, console: &str, kind: &str) -> bool {
    m["origin"] == console && m["data"]["type"] == kind
}

/// How many messages of `kind` the host page received from the console so far.
async fn host_told(h: &Harness, console: &str, kind: &str) -> Result<usize> {
    Ok(host_messages(h)
        .await?
        .iter()
        .filter(|m| is(m, console, kind))
        .count())
}

/// The handshake as the allowed host page sees it: `ready` (version 1) first, then `connected`.
async fn assert_handshake(h: &Harness, console: &str) -> Result<()> {
    wait_host_message(h, "voicebip:connected", |m| {
        is(m, console, "voicebip:connected")
    })
    .await?;
    let messages = host_messages(h).await?;
    let ready = messages
        .iter()
        .position(|m| is(m, console, "voicebip:ready"))
        .ok_or_else(|| anyhow!("no voicebip:ready: {messages:#?}"))?;
    let connected = messages
        .iter()
        .position(|m| is(m, console, "voicebip:connected"))
        .unwrap_or(usize::MAX);
    if ready > connected {
        bail!("voicebip:connected came before voicebip:ready: {messages:#?}");
    }
    if messages[ready]["data"] != json!({"type": "voicebip:ready", "version": 1}) {
        bail!(
            "voicebip:ready has the documented shape: {}",
            messages[ready]
        );
    }
    if messages.iter().any(|m| m["origin"] != console) {
        bail!("only the console talked to the host page: {messages:#?}");
    }
    if messages
        .iter()
        .any(|m| m["data"]["type"] == "voicebip:error")
    {
        bail!("the console reported an error: {messages:#?}");
    }
    Ok(())
}

/// Layout at the iframe's width, from inside it: no horizontal scrolling, each of `css`
/// rendered, inside the viewport's width and not covered by anything else, and no drop-down
/// (the filters) wrapped onto another line than its label's name.
async fn assert_fits(h: &Harness, css: &[&str]) -> Result<()> {
    let v = h
        .browser()
        .execute(
            r#"const out = {
                 innerWidth: window.innerWidth,
                 docScroll: document.documentElement.scrollWidth,
                 docClient: document.documentElement.clientWidth,
                 bodyScroll: document.body.scrollWidth,
                 wide: [],
                 elements: {},
               };
               for (const e of document.querySelectorAll('body *')) {
                 const r = e.getBoundingClientRect();
                 if (r.width > 0 && r.right > window.innerWidth + 1 &&
                     getComputedStyle(e).position !== 'fixed' && !e.closest('.visually-hidden')) {
                   out.wide.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                     (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') +
                     ' right=' + Math.round(r.right));
                 }
               }
               for (const sel of arguments[0]) {
                 const e = document.querySelector(sel);
                 if (!e) { out.elements[sel] = 'missing'; continue; }
                 e.scrollIntoView({block: 'nearest', inline: 'nearest'});
                 const r = e.getBoundingClientRect();
                 const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                 out.elements[sel] =
                   r.width <= 0 || r.height <= 0 ? 'not rendered' :
                   r.left < 0 || r.right > window.innerWidth + 1 ? 'outside the width: ' + r.left + '..' + r.right :
                   !(hit && (hit === e || e.contains(hit))) ? 'covered by ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing') :
                   'ok';
               }
               out.apart = [];
               for (const l of document.querySelectorAll('label[for]')) {
                 const c = document.getElementById(l.htmlFor);
                 const name = [...l.childNodes].find(n => n.nodeType === 3 && n.textContent.trim());
                 if (!c || c.tagName !== 'SELECT' || !name || !c.getClientRects().length) continue;
                 const range = document.createRange();
                 range.selectNodeContents(name);
                 const a = range.getBoundingClientRect(), b = c.getBoundingClientRect();
                 if (a.bottom <= b.top || a.top >= b.bottom) out.apart.push(l.htmlFor);
               }
               return out;"#,
            vec![json!(css)],
        )
        .await?;
    let inner = v["innerWidth"].as_u64().unwrap_or(0);
    if inner != u64::from(WIDTH) {
        bail!("the iframe's viewport is {inner} px wide, expected {WIDTH}: {v}");
    }
    let (scroll, client) = (
        v["docScroll"].as_u64().unwrap_or(u64::MAX),
        v["docClient"].as_u64().unwrap_or(0),
    );
    if scroll > client || v["bodyScroll"].as_u64().unwrap_or(u64::MAX) > client {
        bail!("the embedded console scrolls sideways at {WIDTH} px: {v:#}");
    }
    let wide = v["wide"].as_array().map(Vec::len).unwrap_or(0);
    if wide > 0 {
        bail!(
            "elements stick out of the {WIDTH} px iframe: {:#}",
            v["wide"]
        );
    }
    if v["apart"].as_array().is_none_or(|apart| !apart.is_empty()) {
        bail!(
            "at {WIDTH} px, a drop-down wraps away from its label's name: {}",
            v["apart"]
        );
    }
    for sel in css {
        if v["elements"][sel] != "ok" {
            bail!(
                "`{sel}` is not usable at {WIDTH} px: {}",
                v["elements"][sel]
            );
        }
    }
    Ok(())
}

/// The embedded console must not persist the key: it lives in memory only.
async fn assert_key_not_stored(h: &Harness) -> Result<()> {
    let v = h
        .browser()
        .execute(
            "const all = [];
             for (const s of [window.sessionStorage, window.localStorage]) {
               for (let i = 0; i < s.length; i++) { all.push(s.key(i) + '=' + s.getItem(s.key(i))); }
             }
             return all;",
            vec![],
        )
        .await?;
    let stored: Vec<String> = serde_json::from_value(v)?;
    if let Some(item) = stored.iter().find(|s| s.contains(DEMO_KEY)) {
        bail!("the embedded console stored the key: {item}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allowed_host_connects_the_inbox_and_hears_about_take_over_unread_and_height() {
    with_harness(options(), async |h: &Harness| {
        // An SMS conversation the AI is answering, brought to the top of the inbox by a
        // customer message, and another one that will get news while the operator is busy.
        let target = reachable(h, "ai", "sms").await?;
        let id = str_field(&target, "conversation_id")?;
        inject(h, &id, "Hello? Is anyone there?").await?;
        let first_page = api_list(h, "page_size=5").await?;
        let other = first_page["conversations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["conversation_id"].as_str())
            .find(|c| *c != id)
            .context("a second conversation")?
            .to_string();

        let console = h.base_url().to_string();
        let host = open_host(h, false, "/embed/inbox").await?;
        assert_ne!(host, console, "the host page is on another origin");
        assert_handshake(h, &console).await?;
        wait_attr(h, "#host-status", "data-state", "connected").await?;
        let listed = h
            .browser()
            .execute(
                "return [document.querySelectorAll('#host-log li').length, \
                 window.hostMessages.length];",
                vec![],
            )
            .await?;
        assert_eq!(
            listed[0], listed[1],
            "the host page lists every message it got"
        );
        let connects = requests(h, "GET", |p| p == "/v1/conversations").await?;
        assert!(!connects.is_empty(), "the console checked the key");
        assert!(
            connects
                .iter()
                .all(|r| r.has_authorization && !r.query_has_token),
            "the handed-over key travels in the header: {connects:?}"
        );

        // The host hears the unread count and the content height, and sizes the iframe.
        let unread =
            wait_host_message(h, "voicebip:unread", |m| is(m, &console, "voicebip:unread")).await?;
        assert!(unread["data"]["count"].is_u64(), "{unread}");
        wait_host_message(h, "voicebip:height", |m| {
            is(m, &console, "voicebip:height") && m["data"]["height"].as_f64().unwrap_or(0.0) > 0.0
        })
        .await?;

        // A customer writes on another conversation: the next inbox refresh tells the host.
        let heard_before = host_messages(h).await?.len();
        inject(h, &other, "Any update on my order?").await?;

        enter_console(h).await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        assert_eq!(count(h, "#embed-waiting").await?, 0);
        // No notifications toggle: browsers refuse them to a frame of another site.
        assert_eq!(count(h, "#notify-toggle").await?, 0);
        assert_fits(h, &[ROW]).await?;
        assert_key_not_stored(h).await?;
        let row = format!("{ROW}[data-conversation-id='{id}'] a");
        h.click(&row).await?;
        wait_frame_path(h, &format!("/embed/inbox/{id}")).await?;
        h.wait_for(
            &format!("article#thread[data-conversation-id='{id}']"),
            SCREEN,
        )
        .await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        assert_fits(h, &["#take-over", ".back-link"]).await?;

        h.click("#take-over").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        h.wait_for("#composer-text", SCREEN).await?;
        assert_fits(h, &["#composer-text", "#composer-send", "#return-to-ai"]).await?;
        leave_console(h).await?;

        let changed = wait_host_message(h, "voicebip:mode_changed to human", |m| {
            is(m, &console, "voicebip:mode_changed")
        })
        .await?;
        assert_eq!(
            changed["data"],
            json!({"type": "voicebip:mode_changed", "conversation_id": id, "ai_mode": "human"})
        );
        assert_eq!(
            audit(h, &id).await?.last().map(|(_, to)| to.as_str()),
            Some("human")
        );

        // The unread count the host hears goes up with the customer's new message (the inbox
        // refreshes every 10 s).
        poll_until(
            "voicebip:unread above 0",
            Duration::from_secs(25),
            || async {
                Ok(host_messages(h)
                    .await?
                    .into_iter()
                    .skip(heard_before)
                    .find(|m| {
                        is(m, &console, "voicebip:unread") && m["data"]["count"].as_u64() >= Some(1)
                    }))
            },
        )
        .await
        .with_context(|| "the host never heard of the unread conversation")?;

        // The iframe is as tall as the console said.
        let messages = host_messages(h).await?;
        let last_height = messages
            .iter()
            .rev()
            .find(|m| is(m, &console, "voicebip:height"))
            .and_then(|m| m["data"]["height"].as_f64())
            .context("a height message")?;
        let frame_height = h
            .browser()
            .execute(
                "return document.querySelector(arguments[0]).getBoundingClientRect().height;",
                vec![json!(FRAME)],
            )
            .await?
            .as_f64()
            .unwrap_or(0.0);
        // The iframe's 1 px border on each side.
        assert!(
            (frame_height - 2.0 - last_height.ceil()).abs() <= 1.0,
            "iframe {frame_height} px tall, console asked for {last_height}"
        );
        // At the height it asked for, the console's page does not scroll as a whole.
        enter_console(h).await?;
        let overflow = h
            .browser()
            .execute(
                "const d = document.documentElement; return d.scrollHeight - d.clientHeight;",
                vec![],
            )
            .await?
            .as_f64()
            .unwrap_or(f64::MAX);
        assert!(
            overflow <= 1.0,
            "the embedded page overflows the height it reported by {overflow} px"
        );
        h.assert_no_axe_violations("the embedded inbox's thread at 360 px")
            .await?;
        leave_console(h).await?;
        let kinds = types(&messages);
        assert!(
            !kinds.iter().any(|k| k == "voicebip:error"),
            "no error message: {kinds:?}"
        );
        assert_no_crash(h).await?;
        assert_one_mode_change(h, &console).await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_thread_is_usable_and_accessible_at_360_px() {
    with_harness(options(), async |h: &Harness| {
        let target = find_conversation(
            h,
            "handled by a human on WhatsApp with an open window",
            |item, full| {
                full["ai_mode"] == "human"
                    && item["channel"] == "whatsapp"
                    && item["opt_out"] == false
                    && !item["window_expires_at"].is_null()
            },
        )
        .await?;
        let id = str_field(&target, "conversation_id")?;
        let console = h.base_url().to_string();
        open_host(h, false, &format!("/embed/conversations/{id}")).await?;
        assert_handshake(h, &console).await?;

        enter_console(h).await?;
        h.wait_for(
            &format!("article#thread[data-conversation-id='{id}']"),
            FIRST_SCREEN,
        )
        .await?;
        h.wait_for_all(MESSAGE, 1, SCREEN).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "human").await?;
        // The thread alone, without the inbox around it.
        assert_eq!(count(h, "ul#conversation-list").await?, 0);
        // The keys' hint too: Enter sends, where a sighted operator may expect a new line.
        assert_fits(
            h,
            &[
                "#composer-text",
                "#composer-hint",
                "#composer-send",
                "#return-to-ai",
            ],
        )
        .await?;
        assert_key_not_stored(h).await?;
        // axe's findings are asserted at the end, after the behaviour they might hide.
        let human_axe = h.axe_check().await?;

        h.click("#return-to-ai").await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", "ai").await?;
        assert_fits(h, &["#take-over"]).await?;
        let ai_axe = h.axe_check().await?;
        leave_console(h).await?;
        let changed = wait_host_message(h, "voicebip:mode_changed to ai", |m| {
            is(m, &console, "voicebip:mode_changed")
        })
        .await?;
        assert_eq!(
            changed["data"],
            json!({"type": "voicebip:mode_changed", "conversation_id": id, "ai_mode": "ai"})
        );
        assert_one_mode_change(h, &console).await?;
        assert_no_crash(h).await?;
        for (what, violations) in [("human", human_axe), ("AI", ai_axe)] {
            assert!(
                violations.is_empty(),
                "axe-core found {} violation(s) on the embedded thread at 360 px ({what} \
                 mode):\n{}",
                violations.len(),
                describe_violations(&violations)
            );
        }
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_on_another_origin_gets_nothing() {
    with_harness(options(), async |h: &Harness| {
        let console = h.base_url().to_string();
        let foreign = open_host(h, true, "/embed/inbox").await?;
        let allowed = origin(&h.sim().embed_host_url().context("host URL")?);
        assert_ne!(foreign, allowed);
        assert_ne!(foreign, console);

        // The console loads and waits; it does not greet a page it does not trust.
        enter_console(h).await?;
        h.wait_for("#embed-waiting", FIRST_SCREEN).await?;
        let rejected_before = rejected(h).await?;
        leave_console(h).await?;

        // The foreign page hands over a valid key anyway, twice.
        clear_requests(h).await?;
        h.click("#host-connect").await?;
        h.click("#host-connect").await?;

        enter_console(h).await?;
        poll_until(
            "the console to count the foreign messages",
            SCREEN,
            || async { Ok((rejected(h).await? >= rejected_before + 2).then_some(())) },
        )
        .await?;
        settle(
            "a late connect would show up by now",
            Duration::from_secs(2),
        )
        .await;
        assert_eq!(
            count(h, "#embed-waiting").await?,
            1,
            "still waiting for a host"
        );
        assert_eq!(count(h, ROW).await?, 0, "no conversations shown");
        assert_key_not_stored(h).await?;
        leave_console(h).await?;

        let messages = host_messages(h).await?;
        assert!(
            messages.iter().all(|m| m["origin"] != console),
            "the console told the foreign page nothing: {messages:#?}"
        );
        assert!(!types(&messages).iter().any(|t| t == "voicebip:connected"));
        assert!(
            !attr_is(h, "#host-status", "data-state", "connected").await?,
            "the foreign page is not connected"
        );
        let api = h.sim_requests().await?;
        assert!(
            api.is_empty(),
            "the foreign page's key reached the API: {api:#?}"
        );
        assert_no_crash(h).await?;
        Ok(())
    })
    .await;
}

/// Run in the host page: a frame of the host's own origin (as a widget or an ad the host
/// embeds would be) posts a key to the console from its own window, not the host's (the
/// simulator's host page, framed with `?widget_key=`).
const SIBLING_CONNECT: &str = r#"
const widget = document.createElement('iframe');
widget.src = '/?widget_key=' + encodeURIComponent(arguments[0]);
document.body.appendChild(widget);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_inside_the_allowed_page_cannot_hand_over_a_key() {
    with_harness(options(), async |h: &Harness| {
        let console = h.base_url().to_string();
        open_host(h, false, "/embed/inbox").await?;
        wait_attr(h, "#host-status", "data-state", "connected").await?;
        enter_console(h).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        let rejected_before = rejected(h).await?;
        leave_console(h).await?;

        clear_requests(h).await?;
        h.browser()
            .execute(SIBLING_CONNECT, vec![json!("pk_test_not_the_hosts_key")])
            .await?;
        enter_console(h).await?;
        poll_until("the console to ignore the frame", SCREEN, || async {
            Ok((rejected(h).await? > rejected_before).then_some(()))
        })
        .await?;
        settle(
            "a check of that key would show by now",
            Duration::from_secs(1),
        )
        .await;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        leave_console(h).await?;
        let refused: Vec<_> = h
            .sim_requests()
            .await?
            .into_iter()
            .filter(|r| r.status == 401)
            .collect();
        assert!(
            refused.is_empty(),
            "the frame's key reached the API: {refused:#?}"
        );
        let messages = host_messages(h).await?;
        assert!(
            !messages.iter().any(|m| is(m, &console, "voicebip:error")),
            "the host heard of another's key: {messages:#?}"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// The allowed host page framed by a page of another origin (a stranger laying its own page over
/// the console's buttons): the console takes no key, and the host page and the operator hear
/// why. Framed by a page of an allowed origin, it connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_page_inside_a_page_not_allowed_connects_nothing() {
    with_harness(options(), async |h: &Harness| {
        let allowed = h.sim().embed_host_url().context("host URL")?;
        let foreign = h.sim().foreign_host_url().context("foreign URL")?;
        let outer = async |page: &str| -> Result<()> {
            h.browser()
                .goto(&format!("{page}outer?path=/embed/inbox"))
                .await?;
            h.wait_for("iframe#outer-frame", FIRST_SCREEN)
                .await?
                .enter_frame()
                .await?;
            h.wait_for(FRAME, FIRST_SCREEN).await?;
            Ok(())
        };

        outer(&allowed).await?;
        wait_attr(h, "#host-status", "data-state", "connected").await?;
        leave_console(h).await?;

        clear_requests(h).await?;
        outer(&foreign).await?;
        let said = wait_text(h, "#host-status", "does not list", SCREEN).await?;
        assert!(
            said.contains(&origin(&foreign)),
            "the host page heard why: {said}"
        );
        // The host page hands the key over anyway.
        h.click("#host-connect").await?;
        enter_console(h).await?;
        let waiting = wait_text(h, "#embed-waiting", "does not list", SCREEN).await?;
        assert!(waiting.contains(&origin(&foreign)), "{waiting}");
        settle(
            "a check of the key would show by now",
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(count(h, ROW).await?, 0, "no conversations shown");
        leave_console(h).await?;
        assert!(
            !attr_is(h, "#host-status", "data-state", "connected").await?,
            "not connected"
        );
        let api = h.sim_requests().await?;
        assert!(api.is_empty(), "the key reached the API: {api:#?}");
        assert_no_crash(h).await
    })
    .await;
}

/// One change, one `voicebip:mode_changed`: the console must not report its own change twice
/// (once from the PATCH answer, again from the stream's event).
async fn assert_one_mode_change(h: &Harness, console: &str) -> Result<()> {
    settle(
        "a repeated notification would arrive by now",
        Duration::from_secs(2),
    )
    .await;
    let changes: Vec<Value> = host_messages(h)
        .await?
        .into_iter()
        .filter(|m| is(m, console, "voicebip:mode_changed"))
        .map(|m| m["data"].clone())
        .collect();
    if changes.len() != 1 {
        bail!(
            "one take-over/return sent {} voicebip:mode_changed messages to the host: {changes:#?}",
            changes.len()
        );
    }
    Ok(())
}

/// Wait until the iframe's own route is `path` (WebDriver's current URL is the top page's).
async fn wait_frame_path(h: &Harness, path: &str) -> Result<()> {
    poll_until(&format!("the iframe's route {path}"), SCREEN, || async {
        let now = h
            .browser()
            .execute("return window.location.pathname;", vec![])
            .await?;
        Ok((now == path).then_some(()))
    })
    .await
}

/// `#embed-rejected[data-count]` in the console's iframe.
async fn rejected(h: &Harness) -> Result<u64> {
    let v = h.attrs("#embed-rejected", "data-count").await?;
    v.first()
        .cloned()
        .flatten()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| anyhow!("no #embed-rejected[data-count]: {v:?}"))
}

/// The embedded console takes a key from its host alone: not the one the standalone console
/// remembered on this device (it signed in with it, with no host in sight), and when the API
/// refuses the host's key, the host hears it, and the standalone console's key stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_console_takes_its_key_from_the_host_alone() {
    with_harness(options(), async |h: &Harness| {
        // The console itself, remembered on this device.
        h.open("/").await?;
        h.wait_for("input#remember", FIRST_SCREEN).await?;
        h.click("input#remember").await?;
        h.connect(DEMO_KEY).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;

        // The embedded screens on the same origin, with no host: they wait for one, and ask
        // the API nothing (the remembered key is not tried). (The console left first, and its
        // requests answered, before the log is cleared.)
        h.open("/config.json").await?;
        settle(
            "the console's requests answered",
            std::time::Duration::from_millis(500),
        )
        .await;
        clear_requests(h).await?;
        h.open("/embed/inbox").await?;
        h.wait_for("#embed-waiting", FIRST_SCREEN).await?;
        settle(
            "a key restored from storage",
            std::time::Duration::from_secs(1),
        )
        .await;
        let asked = h.sim_requests().await?;
        assert!(
            asked.is_empty(),
            "the API asked without a host's key: {asked:#?}"
        );
        assert_eq!(count(h, "#embed-waiting").await?, 1, "still waiting");
        assert_eq!(count(h, ROW).await?, 0, "no list without a host's key");

        // From the allowed host: connected, then the key refused.
        let console = open_connected_host(h).await?;
        // Refused from now on; opening a conversation asks the API at once (unless a poll of
        // the list, every 10 s, was refused first: then there is no row left to open).
        enter_console(h).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        fault(h, json!({ "route": "*", "status": 401 })).await?;
        let _ = h.click(&format!("{ROW} a")).await;
        leave_console(h).await?;
        wait_host_message(h, "voicebip:error after the refusal", |m| {
            is(m, &console, "voicebip:error")
        })
        .await?;
        // The operator in the frame is told too (it went on "Waiting for the host page").
        enter_console(h).await?;
        wait_text(h, "#embed-waiting", "not accepted", SCREEN).await?;
        leave_console(h).await?;
        clear_faults(h).await?;
        h.open("/conversations").await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        assert_eq!(
            storage_item(h, "localStorage", "voicebip.key")
                .await?
                .as_deref(),
            Some(DEMO_KEY),
            "the standalone console is still signed in"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// An embedded address that leads nowhere offers the way back to the embedded inbox, where the
/// host connects it again: it led to the standalone console, which asked for a key in the host's
/// frame (and would have kept it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_page_not_found_leads_back_to_the_embedded_inbox() {
    with_harness(options(), async |h: &Harness| {
        open_host(h, false, "/embed/nowhere").await?;
        enter_console(h).await?;
        h.click("#back-to-inbox").await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_eq!(count(h, "#api-key").await?, 0, "no key asked for");
        leave_console(h).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The host hands over another key (rotated, or another workspace's): the console starts
/// afresh with it. The old key's list (its rows, its place, its stream) stayed, with the new
/// key's pages merged into it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_from_the_host_starts_the_console_afresh() {
    const SECOND_KEY: &str = "pk_test_rotated_key_for_the_embed";
    with_harness(options_with_second_key(SECOND_KEY), async |h: &Harness| {
        let console = open_connected_host(h).await?;
        enter_console(h).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        h.browser()
            .execute(
                "document.getElementById('conversation-list').dataset.oldKey = '1';",
                vec![],
            )
            .await?;
        leave_console(h).await?;
        connect_again(h, &console, SECOND_KEY).await?;
        enter_console(h).await?;
        h.wait_for("#conversation-list:not([data-old-key])", SCREEN)
            .await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The host hands over another key, whose check is held by the rate limit: it is tried again
/// after the wait, and the console connects with it, rather than give up at once (the key
/// before is still signed in then) and leave the host with neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_keys_check_held_by_the_rate_limit_connects_after_the_wait() {
    const SECOND_KEY: &str = "pk_test_rotated_key_held_by_the_limit";
    with_harness(options_with_second_key(SECOND_KEY), async |h: &Harness| {
        let console = open_host_showing_rows(h).await?;
        fault_next_key_check(h, json!({ "force_429_retry_after": 1 })).await?;
        connect_again(h, &console, SECOND_KEY).await?;
        enter_console(h).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_eq!(count(h, "#embed-waiting").await?, 0, "connected");
        let checks = key_checks(h).await?;
        assert_eq!(
            checks.first(),
            Some(&429),
            "the key's check held by the limit: {checks:?}"
        );
        assert!(
            checks[1..].contains(&200),
            "the key's check tried again after the wait, and answered: {checks:?}"
        );
        leave_console(h).await?;
        let errors = host_told(h, &console, "voicebip:error").await?;
        assert_eq!(errors, 0, "no error told to the host");
        assert_no_crash(h).await
    })
    .await;
}

/// The host hands over another key, whose check fails for a reason of its own (a gateway's
/// 503s, longer than the check's own retries): it is tried again by itself, and the console
/// connects, where it waited for good for a host that hands a key over once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keys_check_that_failed_for_itself_is_tried_again_by_itself() {
    const SECOND_KEY: &str = "pk_test_rotated_key_met_by_a_gateway_error";
    with_harness(options_with_second_key(SECOND_KEY), async |h: &Harness| {
        let console = open_host_showing_rows(h).await?;
        // The check and its three retries.
        fault_next_key_check(h, json!({ "status": 503, "count": 4 })).await?;
        h.fill("#host-key", SECOND_KEY).await?;
        h.click("#host-connect").await?;
        wait_host_message(h, "voicebip:error", |m| is(m, &console, "voicebip:error")).await?;
        enter_console(h).await?;
        let waiting = wait_text(h, "#embed-waiting", "Trying again by itself", SCREEN).await?;
        assert!(waiting.contains("Voicebip"), "says why: {waiting}");
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_eq!(count(h, "#embed-waiting").await?, 0, "connected");
        leave_console(h).await?;
        let checks = key_checks(h).await?;
        assert_eq!(
            checks,
            [503, 503, 503, 503, 200],
            "tried again once the check gave up"
        );
        assert_eq!(host_told(h, &console, "voicebip:connected").await?, 2);
        assert_eq!(
            host_told(h, &console, "voicebip:error").await?,
            1,
            "told once"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A key's check failed for a reason of its own, then refused on a check tried again: the
/// host hears the refusal too (it had only heard of the first failure), and the frame stops
/// trying, where the host kept waiting for a check that had ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_refused_on_a_check_tried_again_is_told_to_the_host() {
    const SECOND_KEY: &str = "pk_test_rotated_key_refused_on_the_second_check";
    with_harness(options_with_second_key(SECOND_KEY), async |h: &Harness| {
        let console = open_host_showing_rows(h).await?;
        fault_next_key_check(h, json!({ "status": 503, "count": 4 })).await?;
        h.fill("#host-key", SECOND_KEY).await?;
        h.click("#host-connect").await?;
        wait_host_message(h, "voicebip:error", |m| is(m, &console, "voicebip:error")).await?;
        // (The check is tried again two seconds on at the soonest.)
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "query_contains": "page_size=1",
                    "status": 401, "count": 1 }),
        )
        .await?;
        poll_until("the refusal told to the host", SCREEN, || async {
            Ok((host_told(h, &console, "voicebip:error").await? == 2).then_some(()))
        })
        .await?;
        let told: Vec<String> = host_messages(h)
            .await?
            .iter()
            .filter(|m| is(m, &console, "voicebip:error"))
            .map(|m| m["data"]["message"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert!(
            told[1].contains("host page handed over was not accepted"),
            "{told:?}"
        );
        enter_console(h).await?;
        let waiting = wait_text(h, "#embed-waiting", "not accepted", SCREEN).await?;
        assert!(!waiting.contains("Trying again"), "{waiting}");
        leave_console(h).await?;
        settle(
            "a check tried again, were there one",
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(key_checks(h).await?, [503, 503, 503, 503, 401]);
        assert_no_crash(h).await
    })
    .await;
}

/// The host hands over another key (another operator signed in to the tool) whose check is
/// held (a rate limit's 15 s): the session of the key before ends at once. Its rows stayed on
/// screen, and it went on polling and acting for a host that had moved on from it, until the
/// check answered (minutes, on a slow API). The host hears of the new key alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_keys_check_ends_the_session_of_the_one_before_at_once() {
    const SECOND_KEY: &str = "pk_test_rotated_key_checked_as_the_old_one_goes";
    with_harness(options_with_second_key(SECOND_KEY), async |h: &Harness| {
        let console = open_host_showing_rows(h).await?;
        fault_next_key_check(h, json!({ "force_429_retry_after": 15 })).await?;
        h.fill("#host-key", SECOND_KEY).await?;
        h.click("#host-connect").await?;
        enter_console(h).await?;
        let waiting = wait_text(h, "#embed-waiting", "Checking the key", SCREEN).await?;
        assert!(!waiting.contains("Waiting for the host"), "{waiting}");
        assert_eq!(count(h, ROW).await?, 0, "the last key's rows are gone");
        settle("past the list's next poll", Duration::from_millis(10_500)).await;
        let polls = requests(h, "GET", |p| p == "/v1/conversations")
            .await?
            .iter()
            .filter(|r| {
                r.query
                    .as_deref()
                    .is_some_and(|q| q.contains("page_size=50"))
            })
            .count();
        assert_eq!(polls, 0, "the last key polls no more");
        h.wait_for_all(ROW, 1, Duration::from_secs(25)).await?;
        leave_console(h).await?;
        assert_eq!(host_told(h, &console, "voicebip:error").await?, 0);
        assert_eq!(host_told(h, &console, "voicebip:connected").await?, 2);
        assert_no_crash(h).await
    })
    .await;
}

/// Configured for no host page (`embed_allowed_origins` empty, as the shipped config.json has
/// it), the embedded console says so, where it said it was waiting for a host that could never
/// connect it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embed_no_host_may_connect_says_so() {
    with_harness(Options::default(), async |h: &Harness| {
        h.open("embed/inbox").await?;
        wait_text(
            h,
            "#embed-waiting",
            "embed_allowed_origins lists none",
            FIRST_SCREEN,
        )
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The next key check (one conversation asked for, not the list's poll) meets `what` (a fault's
/// fields); the log of requests is cleared first, for [`key_checks`].
async fn fault_next_key_check(h: &Harness, what: Value) -> Result<()> {
    clear_requests(h).await?;
    let mut rule = json!({
        "route": "GET /v1/conversations",
        "query_contains": "page_size=1",
        "count": 1,
    });
    if let (Some(rule), Some(what)) = (rule.as_object_mut(), what.as_object()) {
        rule.extend(what.clone());
    }
    fault(h, rule).await
}

/// The key checks of `GET /v1/conversations?page_size=1` so far, by status.
async fn key_checks(h: &Harness) -> Result<Vec<u16>> {
    Ok(requests(h, "GET", |p| p == "/v1/conversations")
        .await?
        .into_iter()
        .filter(|r| {
            r.query
                .as_deref()
                .is_some_and(|q| q.split('&').any(|p| p == "page_size=1"))
        })
        .map(|r| r.status)
        .collect())
}

/// A key's check held by the rate limit, and the host hands over another key meanwhile: the
/// first check ends there, where it asked again with a key the host had moved on from (maybe
/// another operator's), and said "Retrying" meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keys_check_the_host_moved_on_from_is_not_asked_again() {
    const SECOND_KEY: &str = "pk_test_key_the_host_moved_on_from";
    with_harness(options_with_second_key(SECOND_KEY), async |h: &Harness| {
        let console = open_host_showing_rows(h).await?;
        fault_next_key_check(h, json!({ "force_429_retry_after": 4 })).await?;
        h.fill("#host-key", SECOND_KEY).await?;
        h.click("#host-connect").await?;
        poll_until("the second key's check held", SCREEN, || async {
            Ok((key_checks(h).await? == [429]).then_some(()))
        })
        .await?;
        connect_again(h, &console, DEMO_KEY).await?;
        settle(
            "the held check would have been asked again by now",
            std::time::Duration::from_secs(5),
        )
        .await;
        assert_eq!(
            key_checks(h).await?,
            [429, 200],
            "the held check, and the key handed over since"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// The host hands over another key, which the API refuses (the tool signed another operator in
/// with a revoked key, say): the key before does not go on acting for the host. The console
/// waits, saying why, as for a first key refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_new_key_from_the_host_ends_the_one_before() {
    with_harness(options(), async |h: &Harness| {
        let console = open_host_showing_rows(h).await?;
        h.fill("#host-key", "pk_test_revoked_for_the_embed").await?;
        h.click("#host-connect").await?;
        wait_host_message(h, "voicebip:error", |m| is(m, &console, "voicebip:error")).await?;
        enter_console(h).await?;
        let waiting = h.wait_for("#embed-waiting", SCREEN).await?.text().await?;
        assert!(waiting.contains("not accepted"), "says why: {waiting}");
        assert_eq!(count(h, ROW).await?, 0, "the old key's rows are gone");
        leave_console(h).await?;
        let errors = host_told(h, &console, "voicebip:error").await?;
        assert_eq!(errors, 1, "the host told once");
        // What the host page can act on: the key it handed over, not "enter it again".
        let told =
            wait_host_message(h, "voicebip:error", |m| is(m, &console, "voicebip:error")).await?;
        let message = told["data"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("host page handed over was not accepted"),
            "{message:?}"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// The host hands over the key the console holds, and the API now refuses it (revoked since):
/// the console does not go on with it until a later request finds out, which a hidden frame
/// may not make for a long while. It waits, saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_refused_when_handed_over_again_ends_the_session() {
    with_harness(options(), async |h: &Harness| {
        let console = open_host_showing_rows(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "status": 401, "count": 1 }),
        )
        .await?;
        h.fill("#host-key", DEMO_KEY).await?;
        h.click("#host-connect").await?;
        wait_host_message(h, "voicebip:error", |m| is(m, &console, "voicebip:error")).await?;
        enter_console(h).await?;
        let waiting = h.wait_for("#embed-waiting", SCREEN).await?.text().await?;
        assert!(waiting.contains("not accepted"), "says why: {waiting}");
        // And read out: the waiting screen is built with its words in it, which no live
        // region made with them reads.
        wait_text(h, "#live-announcer", "not accepted", SCREEN).await?;
        assert_eq!(count(h, ROW).await?, 0, "the refused key's rows are gone");
        leave_console(h).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The key connected with, handed over again while its check fails for another reason than
/// the key (a gateway's error): the console goes on with it, and the host hears that it is
/// connected, where it was told of an error and took the console for stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_handed_over_again_through_a_failed_check_is_still_connected() {
    with_harness(options(), async |h: &Harness| {
        let console = open_connected_host(h).await?;
        fault_next_key_check(h, json!({ "status": 400 })).await?;
        connect_again(h, &console, DEMO_KEY).await?;
        assert_eq!(key_checks(h).await?, [400], "the check failed");
        assert_eq!(host_told(h, &console, "voicebip:error").await?, 0);
        enter_console(h).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_eq!(count(h, "#embed-waiting").await?, 0, "still connected");
        leave_console(h).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A connect message without a key (the host's key not loaded yet, or under another name) is
/// answered with an error that says what is missing, where the host waited for an answer that
/// never came; the key the console is connected with goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_without_a_key_is_answered() {
    with_harness(options(), async |h: &Harness| {
        let console = open_connected_host(h).await?;
        h.browser()
            .execute(
                "document.querySelector(arguments[0]).contentWindow \
                 .postMessage({ type: 'voicebip:connect', apiKey: 'pk_test_demo_voicebip' }, arguments[1]);",
                vec![json!(FRAME), json!(console)],
            )
            .await?;
        let error = wait_host_message(h, "voicebip:error", |m| is(m, &console, "voicebip:error"))
            .await?;
        let said = error["data"]["message"].as_str().unwrap_or_default();
        assert!(said.contains("without a key"), "says what is missing: {said}");
        enter_console(h).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_eq!(count(h, "#embed-waiting").await?, 0, "still connected");
        leave_console(h).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The host hands over another operator's key: the first one's drafts (a failed send's text
/// among them) are not handed on to be sent under the second one's name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_key_from_the_host_does_not_get_the_drafts_before() {
    const SECOND_KEY: &str = "pk_test_second_operator_of_the_tool";
    with_harness(options_with_second_key(SECOND_KEY), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        open_host(h, false, &format!("/embed/conversations/{id}")).await?;
        let console = h.base_url().to_string();
        wait_host_message(h, "voicebip:connected", |m| {
            is(m, &console, "voicebip:connected")
        })
        .await?;
        enter_console(h).await?;
        wait_thread(h, &id).await?;
        h.fill("#composer-text", "The first operator's draft")
            .await?;
        poll_until("the draft kept", SCREEN, || async {
            Ok(
                storage_item(h, "sessionStorage", &draft_item(h, DEMO_KEY, &id))
                    .await?
                    .filter(|d| d.contains("first operator"))
                    .map(|_| ()),
            )
        })
        .await?;
        leave_console(h).await?;
        connect_again(h, &console, SECOND_KEY).await?;
        enter_console(h).await?;
        wait_thread(h, &id).await?;
        settle("the reply box filled, if it is", Duration::from_millis(300)).await;
        let draft = h
            .wait_for("#composer-text", SCREEN)
            .await?
            .prop("value")
            .await?
            .unwrap_or_default();
        assert_eq!(draft, "", "the first operator's draft is not the second's");
        leave_console(h).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A reply refused after the operator went from the embedded conversation to the embedded inbox
/// and opened the conversation there (another screen, where a late answer found nothing shown):
/// its text goes into the reply box shown, not into a draft behind it that the box then wrote
/// over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_failure_reaches_the_reply_box_on_the_embedded_inbox() {
    with_harness(options(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        // At the top of the list, to be opened from it.
        inject(h, &id, "Any news?").await?;
        let console = h.base_url().to_string();
        open_host(h, false, &format!("/embed/conversations/{id}")).await?;
        assert_handshake(h, &console).await?;
        enter_console(h).await?;
        h.wait_for("#composer-text", FIRST_SCREEN).await?;
        fault(
            h,
            json!({ "route": "POST /v1/messages", "status": 402, "latency_ms": 10_000, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        let text = "Unsent: the courier calls ahead";
        h.fill("#composer-text", text).await?;
        h.press(&[voicebip_e2e::Key::Enter.into()]).await?;
        h.click(".back-link").await?;
        wait_frame_path(h, "/embed/inbox").await?;
        h.click(&format!("{ROW}[data-conversation-id='{id}'] a"))
            .await?;
        wait_frame_path(h, &format!("/embed/inbox/{id}")).await?;
        h.wait_for("#composer-text", SCREEN).await?;
        let posts = || async {
            let posts = requests(h, "POST", |p| p == "/v1/messages").await?;
            Ok::<_, voicebip_e2e::anyhow::Error>(posts.iter().map(|r| r.status).collect::<Vec<_>>())
        };
        assert!(posts().await?.is_empty(), "back before the answer came");
        poll_until("the late refusal", SCREEN, || async {
            Ok((posts().await? == [402]).then_some(()))
        })
        .await?;
        poll_until("its text in the reply box shown", SCREEN, || async {
            let value = h
                .wait_for("#composer-text", SCREEN)
                .await?
                .prop("value")
                .await?;
            Ok((value.as_deref() == Some(text)).then_some(()))
        })
        .await?;
        leave_console(h).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The keyboard keeps its place between the embedded console's screens: "← All conversations"
/// pressed on the embedded conversation leaves the focus in the embedded inbox that replaces
/// it, not at the start of the frame (the two are one route, so no screen change was seen).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyboard_keeps_its_place_from_the_embedded_conversation_to_its_inbox() {
    with_harness(options(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        let console = h.base_url().to_string();
        open_host(h, false, &format!("/embed/conversations/{id}")).await?;
        assert_handshake(h, &console).await?;
        enter_console(h).await?;
        h.wait_for("#composer-text", FIRST_SCREEN).await?;
        h.browser()
            .execute("document.querySelector('.back-link').focus();", vec![])
            .await?;
        h.press(&[voicebip_e2e::Key::Enter.into()]).await?;
        wait_frame_path(h, "/embed/inbox").await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        wait_focus_in(h, "#main", SCREEN)
            .await
            .context("the focus left at the frame's start")?;
        leave_console(h).await?;
        assert_no_crash(h).await
    })
    .await;
}
