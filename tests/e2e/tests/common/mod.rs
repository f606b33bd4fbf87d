//! What several end-to-end test files share: waits for the console's screens, and short ways to
//! ask the simulator what the console should show or to make it misbehave.

use std::time::Duration;

use serde_json::{json, Value};
use voicebip_e2e::anyhow::{anyhow, bail, Context, Result};
use voicebip_e2e::{poll_until, Harness, LoggedRequest, DEMO_KEY};

/// The first screen includes fetching and compiling the wasm in a cold browser on 2 cores.
pub const FIRST_SCREEN: Duration = Duration::from_secs(30);
/// A screen or an update after the console is running.
pub const SCREEN: Duration = Duration::from_secs(15);
pub const ROW: &str = "ul#conversation-list li.conversation-row";
pub const MESSAGE: &str = "ol#messages > li.message";

/// Open the console, connect with the demo key and wait for the first rows of the inbox.
pub async fn sign_in(h: &Harness) -> Result<()> {
    h.open("/").await?;
    h.connect(DEMO_KEY).await?;
    h.wait_for_path("/conversations", FIRST_SCREEN).await?;
    h.wait_for_all(ROW, 1, SCREEN).await?;
    Ok(())
}

/// Load `/conversations/{id}` (a fresh page load; the key survives in sessionStorage) and wait
/// until the thread is shown.
pub async fn open_thread(h: &Harness, id: &str) -> Result<()> {
    h.open(&format!("/conversations/{id}")).await?;
    wait_thread(h, id).await
}

/// Signs in and opens a conversation in `ai_mode` on `channel` that can be written to, once
/// its stream is live and the newest page it asks for as it opens is answered: its id.
pub async fn open_live(h: &Harness, ai_mode: &str, channel: &str) -> Result<String> {
    let conv = reachable(h, ai_mode, channel).await?;
    let id = str_field(&conv, "conversation_id")?;
    sign_in(h).await?;
    open_thread_live(h, &id).await?;
    Ok(id)
}

/// Opens conversation `id` from its address (signed in) and waits until its stream is live and
/// the newest page it asks for as it opens is answered. The log of requests is cleared first.
pub async fn open_thread_live(h: &Harness, id: &str) -> Result<()> {
    clear_requests(h).await?;
    open_thread(h, id).await?;
    wait_attr(h, "#connection-status", "data-state", "live").await?;
    // "Live" shows before the stream's opening refetch goes out, and the simulator logs a
    // request once answered: without this, that refetch could come after a test clears the log,
    // and be counted as the console's answer to what the test does. (The first is the page
    // asked for at start-up.)
    poll_until("the stream's opening refetch", SCREEN, || async {
        Ok((newest_page_requests(h, id).await?.len() >= 2).then_some(()))
    })
    .await
}

/// Wait until the thread pane shows conversation `id` with its messages.
pub async fn wait_thread(h: &Harness, id: &str) -> Result<()> {
    h.wait_for(
        &format!("article#thread[data-conversation-id='{id}']"),
        FIRST_SCREEN,
    )
    .await?;
    Ok(())
}

/// Runs `f` inside the frame `css` (a second console standing in for another tab), and comes
/// back out whatever it gave.
pub async fn in_frame<T>(h: &Harness, css: &str, f: impl AsyncFnOnce() -> Result<T>) -> Result<T> {
    h.wait_for(css, SCREEN).await?.enter_frame().await?;
    let out = f().await;
    h.browser().enter_parent_frame().await?;
    out
}

/// One page of the API's conversation list (`query` like `channel=sms&page_size=50`).
pub async fn api_list(h: &Harness, query: &str) -> Result<Value> {
    h.api_get(&format!("/conversations?{query}"), DEMO_KEY)
        .await
}

/// The id of the conversation the API lists first (the newest).
pub async fn newest_conversation_id(h: &Harness) -> Result<String> {
    str_field(
        &api_list(h, "page_size=1").await?["conversations"][0],
        "conversation_id",
    )
}

/// Every conversation the API lists for `query` (filters only), walking all pages.
pub async fn api_list_all(h: &Harness, query: &str) -> Result<Vec<Value>> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q = format!(
            "page_size=100{}{query}",
            if query.is_empty() { "" } else { "&" }
        );
        if let Some(t) = &token {
            q.push_str(&format!("&page_token={t}"));
        }
        let page = api_list(h, &q).await?;
        all.extend(
            page["conversations"]
                .as_array()
                .ok_or_else(|| anyhow!("no `conversations` array: {page}"))?
                .iter()
                .cloned(),
        );
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(all),
        }
    }
}

/// `GET /v1/conversations/{id}` with the console's page size (50 messages).
pub async fn api_conversation(h: &Harness, id: &str) -> Result<Value> {
    h.api_get(&format!("/conversations/{id}?page_size=50"), DEMO_KEY)
        .await
}

/// The first conversations of the whole list (newest first) whose list item and full
/// conversation satisfy `pred`; up to `n` of them. Fails if fewer exist.
pub async fn find_conversations(
    h: &Harness,
    n: usize,
    what: &str,
    pred: impl Fn(&Value, &Value) -> bool,
) -> Result<Vec<Value>> {
    let mut found = Vec::new();
    for item in api_list_all(h, "").await? {
        let id = str_field(&item, "conversation_id")?;
        let full = api_conversation(h, &id).await?;
        if pred(&item, &full) {
            found.push(full);
            if found.len() == n {
                return Ok(found);
            }
        }
    }
    bail!(
        "the seed has only {} conversation(s) that are {what}",
        found.len()
    )
}

/// The first conversation satisfying `pred` (see `find_conversations`).
pub async fn find_conversation(
    h: &Harness,
    what: &str,
    pred: impl Fn(&Value, &Value) -> bool,
) -> Result<Value> {
    Ok(find_conversations(h, 1, what, pred).await?.remove(0))
}

/// The first conversation answered by `ai_mode` (`ai`, `human`) on `channel` (`sms`,
/// `whatsapp`) whose customer has not opted out: one an operator can write to, or take over.
pub async fn reachable(h: &Harness, ai_mode: &str, channel: &str) -> Result<Value> {
    let what = format!("answered by {ai_mode} on {channel}, not opted out");
    find_conversation(h, &what, |item, full| {
        full["ai_mode"] == ai_mode && item["channel"] == channel && item["opt_out"] == false
    })
    .await
}

/// The agent's number in conversation `id`, as its first inbound message was written to.
pub async fn agent_number(h: &Harness, id: &str) -> Result<String> {
    api_conversation(h, id).await?["messages"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["direction"] == "inbound"))
        .map(|m| str_field(m, "to_number"))
        .ok_or_else(|| anyhow!("no inbound message to learn the agent's number from"))?
}

/// Opens, signed in and live, a WhatsApp conversation a human answers, its window open, and
/// sends it an image from the API (not from the console): the API's answer to the send.
pub async fn open_and_send_an_image(h: &Harness, url: &str, caption: &str) -> Result<Value> {
    let conv = reachable(h, "human", "whatsapp").await?;
    let id = str_field(&conv, "conversation_id")?;
    h.sim_post(
        &format!("/sim/conversations/{id}/window"),
        &json!({ "expired": false }),
    )
    .await?;
    let agent_number = agent_number(h, &id).await?;
    sign_in(h).await?;
    open_thread_live(h, &id).await?;
    let send = json!({
        "agent_id": str_field(&conv, "agent_id")?, "channel": "whatsapp",
        "from_number": agent_number, "to_number": str_field(&conv, "from_number")?,
        "message_type": "image", "media_url": url, "media_caption": caption,
    });
    h.api_post("/messages", &send, DEMO_KEY).await
}

pub fn str_field(v: &Value, field: &str) -> Result<String> {
    v[field]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no string `{field}` in {v}"))
}

/// The customer of conversation `id` writes `body` (through `/sim/inbound`).
pub async fn inject(h: &Harness, id: &str, body: &str) -> Result<Value> {
    h.sim_post(
        "/sim/inbound",
        &json!({ "conversation_id": id, "body": body }),
    )
    .await
}

/// Add a fault rule (`/sim/faults`).
pub async fn fault(h: &Harness, spec: Value) -> Result<()> {
    h.sim_post("/sim/faults", &spec).await.map(drop)
}

pub async fn clear_faults(h: &Harness) -> Result<()> {
    h.sim_delete("/sim/faults").await.map(drop)
}

pub async fn clear_requests(h: &Harness) -> Result<()> {
    h.sim_delete("/sim/requests").await.map(drop)
}

/// Change the simulator's timings (`/sim/settings`), e.g. `{"status_step_ms": 200}`.
pub async fn settings(h: &Harness, patch: Value) -> Result<()> {
    h.sim_post("/sim/settings", &patch).await.map(drop)
}

/// The logged `/v1` requests with this method whose path satisfies `path`.
pub async fn requests(
    h: &Harness,
    method: &str,
    path: impl Fn(&str) -> bool,
) -> Result<Vec<LoggedRequest>> {
    Ok(h.sim_requests()
        .await?
        .into_iter()
        .filter(|r| r.method == method && path(&r.path))
        .collect())
}

/// The stream's subscriber count for conversation `id`.
pub async fn subscribers(h: &Harness, id: &str) -> Result<u64> {
    let v = h
        .sim_get(&format!("/sim/conversations/{id}/subscribers"))
        .await?;
    v["count"]
        .as_u64()
        .ok_or_else(|| anyhow!("no count in {v}"))
}

/// Wait until conversation `id` has exactly `n` stream subscribers.
pub async fn wait_subscribers(h: &Harness, id: &str, n: u64) -> Result<()> {
    poll_until(
        &format!("{n} stream subscriber(s) on {id}"),
        SCREEN,
        || async { Ok((subscribers(h, id).await? == n).then_some(())) },
    )
    .await
}

/// The audit trail (`mode_history`) of conversation `id`, as (from, to) pairs.
pub async fn audit(h: &Harness, id: &str) -> Result<Vec<(String, String)>> {
    let v = h.sim_get(&format!("/sim/conversations/{id}/audit")).await?;
    // A bare array of rows (README), or the rows under `mode_history`.
    let rows = match v.get("mode_history") {
        Some(rows) => rows,
        None => &v,
    };
    rows.as_array()
        .ok_or_else(|| anyhow!("no audit rows in {v}"))?
        .iter()
        .map(|r| Ok((str_field(r, "from_mode")?, str_field(r, "to_mode")?)))
        .collect()
}

/// The first element matching `css` has attribute `attr` equal to `value`, now.
pub async fn attr_is(h: &Harness, css: &str, attr: &str, value: &str) -> Result<bool> {
    Ok(h.attrs(css, attr)
        .await?
        .first()
        .cloned()
        .flatten()
        .as_deref()
        == Some(value))
}

/// Wait until the first element matching `css` has `attr` = `value`.
pub async fn wait_attr(h: &Harness, css: &str, attr: &str, value: &str) -> Result<()> {
    poll_until(&format!("`{css}`[{attr}={value}]"), SCREEN, || async {
        Ok(attr_is(h, css, attr, value).await?.then_some(()))
    })
    .await
    .with_context(|| format!("`{css}` never got {attr}={value}"))
}

/// The focus is on or inside the element matching `css`, now.
pub async fn focus_in(h: &Harness, css: &str) -> Result<bool> {
    let inside = h
        .browser()
        .execute(
            "return !!document.activeElement?.closest(arguments[0]);",
            vec![json!(css)],
        )
        .await?;
    Ok(inside == json!(true))
}

/// Wait until the focus is on or inside the element matching `css`.
pub async fn wait_focus_in(h: &Harness, css: &str, timeout: Duration) -> Result<()> {
    poll_until(&format!("the focus in `{css}`"), timeout, || async {
        Ok(focus_in(h, css).await?.then_some(()))
    })
    .await
}

/// The conversations of the list's rows in the DOM, top to bottom.
pub async fn row_ids(h: &Harness) -> Result<Vec<String>> {
    Ok(h.attrs(ROW, "data-conversation-id")
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// How many elements match `css` now.
pub async fn count(h: &Harness, css: &str) -> Result<usize> {
    let v = h
        .browser()
        .execute(
            "return document.querySelectorAll(arguments[0]).length;",
            vec![json!(css)],
        )
        .await?;
    v.as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| anyhow!("count of `{css}` is not a number: {v}"))
}

/// Wait until nothing matches `css`.
pub async fn wait_gone(h: &Harness, css: &str, timeout: Duration) -> Result<()> {
    poll_until(&format!("`{css}` to go away"), timeout, || async {
        Ok((count(h, css).await? == 0).then_some(()))
    })
    .await
}

/// Wait until the text of the first element matching `css` contains `needle`; returns the text.
pub async fn wait_text(h: &Harness, css: &str, needle: &str, timeout: Duration) -> Result<String> {
    poll_until(&format!("`{css}` to read {needle:?}"), timeout, || async {
        let texts = h.texts(css).await?;
        Ok(texts.into_iter().find(|t| t.contains(needle)))
    })
    .await
}

/// A rendered message of the thread.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Shown {
    pub id: Option<String>,
    pub direction: Option<String>,
    pub status: Option<String>,
    pub body: String,
    pub local: bool,
}

/// The thread's messages as shown, top to bottom.
pub async fn shown_messages(h: &Harness) -> Result<Vec<Shown>> {
    let v = h
        .browser()
        .execute(
            r#"return Array.from(document.querySelectorAll('ol#messages > li.message'), li => ({
                 id: li.getAttribute('data-message-id'),
                 direction: li.getAttribute('data-direction'),
                 status: li.getAttribute('data-status'),
                 body: (li.querySelector('.message-body') || {}).textContent || '',
                 local: li.classList.contains('local'),
               }));"#,
            vec![],
        )
        .await?;
    serde_json::from_value(v).context("decoding the shown messages")
}

/// Messages shown with exactly this body.
pub async fn shown_with_body(h: &Harness, body: &str) -> Result<Vec<Shown>> {
    Ok(shown_messages(h)
        .await?
        .into_iter()
        .filter(|m| m.body == body)
        .collect())
}

/// Wait until a message with exactly `body` is shown and satisfies `pred`; returns it.
pub async fn wait_message(
    h: &Harness,
    body: &str,
    what: &str,
    pred: impl Fn(&Shown) -> bool,
) -> Result<Shown> {
    poll_until(&format!("message {body:?} {what}"), SCREEN, || async {
        Ok(shown_with_body(h, body).await?.into_iter().find(&pred))
    })
    .await
}

/// Chooses `value` in the select `css`, as the operator does.
pub async fn select(h: &Harness, css: &str, value: &str) -> Result<()> {
    h.wait_for(css, SCREEN)
        .await?
        .select_by_value(value)
        .await
        .with_context(|| format!("choosing {value:?} in {css}"))
}

/// `sessionStorage` / `localStorage` item, as the page sees it.
pub async fn storage_item(h: &Harness, area: &str, key: &str) -> Result<Option<String>> {
    let v = h
        .browser()
        .execute(
            &format!("return window.{area}.getItem(arguments[0]);"),
            vec![json!(key)],
        )
        .await?;
    Ok(v.as_str().map(str::to_string))
}

/// The storage item of a draft kept for the workspace that `key` signs in to here (`what`: a
/// conversation's id, and the suffix of what is kept beside its reply). The console names it
/// with the workspace's name, an FNV-1a hash of its API's address and the key, written out here
/// so that a change of the name (which would lose the drafts kept by the release before) fails.
pub fn draft_item(h: &Harness, key: &str, what: &str) -> String {
    let base = format!("{}/v1", h.base_url());
    let workspace = [base.as_bytes(), b"\n", key.as_bytes()]
        .concat()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("voicebip.draft.{workspace:016x}.{what}")
}

/// Fail if the console logged a Rust panic or an uncaught exception.
pub async fn assert_no_crash(h: &Harness) -> Result<()> {
    let crashes: Vec<_> = h
        .browser_errors()
        .await?
        .into_iter()
        .filter(|e| e.message.contains("panicked") || e.message.contains("Uncaught"))
        .collect();
    if !crashes.is_empty() {
        bail!("the console crashed: {crashes:#?}");
    }
    Ok(())
}

/// Every URL this document loaded (the page itself and each resource).
pub async fn loaded_urls(h: &Harness) -> Result<Vec<String>> {
    let v = h
        .browser()
        .execute(
            "return performance.getEntriesByType('navigation')
                 .concat(performance.getEntriesByType('resource'))
                 .map(e => e.name);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// `GET /v1/conversations/{id}` of its newest page (no page token).
pub async fn newest_page_requests(h: &Harness, id: &str) -> Result<Vec<LoggedRequest>> {
    let path = format!("/v1/conversations/{id}");
    Ok(requests(h, "GET", |p| p == path)
        .await?
        .into_iter()
        .filter(|r| !r.query.as_deref().unwrap_or("").contains("page_token"))
        .collect())
}

/// Waits until a list request whose query holds `part` (`channel=sms`) has been answered.
pub async fn wait_list_answered(h: &Harness, part: &str, timeout: Duration) -> Result<()> {
    poll_until(&format!("a list of {part} answered"), timeout, || async {
        let asked = requests(h, "GET", |p| p == "/v1/conversations").await?;
        Ok(asked
            .iter()
            .any(|r| r.query.as_deref().is_some_and(|q| q.contains(part)))
            .then_some(()))
    })
    .await
}

/// The current URL's query string (without `?`), or "".
pub async fn url_query(h: &Harness) -> Result<String> {
    let url = h.browser().current_url().await?;
    Ok(url.query().unwrap_or_default().to_string())
}

/// Sleep that says why: only where absence must be proven (no second request follows).
pub async fn settle(why: &str, d: Duration) {
    let _ = why;
    tokio::time::sleep(d).await;
}

/// Records from now what the announcer says (`said_since` reads it back): whether a thing is
/// said again, which its text left in the region cannot tell. What is added to the region, as a
/// screen reader reads it (each announcement is an element of its own).
pub async fn record_said(h: &Harness) -> Result<()> {
    h.browser()
        .execute(
            "window.__said = [];
             const el = document.getElementById('live-announcer');
             new MutationObserver(records => {
               for (const r of records) for (const n of r.addedNodes) window.__said.push(n.textContent);
             }).observe(el, { childList: true, subtree: true });",
            vec![],
        )
        .await?;
    Ok(())
}

/// What the announcer said since `record_said` that holds `needle`.
pub async fn said_since(h: &Harness, needle: &str) -> Result<Vec<String>> {
    let said = h
        .browser()
        .execute(
            "return window.__said.filter(t => t.includes(arguments[0]));",
            vec![json!(needle)],
        )
        .await?;
    Ok(serde_json::from_value(said)?)
}

/// Signs in from the connect screen with `key`, remembered on this device, to the list.
pub async fn sign_in_remembered(h: &Harness, key: &str) -> Result<()> {
    h.open("/").await?;
    h.wait_for("input#remember", FIRST_SCREEN).await?;
    h.click("input#remember").await?;
    h.connect(key).await?;
    h.wait_for_all(ROW, 1, SCREEN).await.map(drop)
}

/// The console in two frames of one page (`#a` at address `a`, `#b` at `b`), each at its list:
/// tabs, as far as the console's storage and its channel between tabs go (headless Chromium
/// hides an unfocused window). The page is one of the console's origin that runs no console.
pub async fn two_consoles(h: &Harness, a: &str, b: &str) -> Result<()> {
    h.open("/config.json").await?;
    h.browser()
        .execute(
            "document.body.innerHTML = \
             `<iframe id=\"a\" src=\"${arguments[0]}\" width=\"700\" height=\"700\"></iframe>` + \
             `<iframe id=\"b\" src=\"${arguments[1]}\" width=\"700\" height=\"700\"></iframe>`;",
            vec![json!(a), json!(b)],
        )
        .await?;
    for frame in ["#a", "#b"] {
        in_frame(h, frame, async || {
            h.wait_for_all(ROW, 1, SCREEN).await.map(drop)
        })
        .await?;
    }
    Ok(())
}

/// What the page reads of the browser's network: online or not, with the event a change fires.
pub async fn set_online(h: &Harness, online: bool) -> Result<()> {
    h.browser()
        .execute(
            "const online = arguments[0];
             Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => online });
             window.dispatchEvent(new Event(online ? 'online' : 'offline'));",
            vec![json!(online)],
        )
        .await?;
    Ok(())
}

/// What the page reads of its tab: hidden or in view, with the event a change fires.
pub async fn set_hidden(h: &Harness, hidden: bool) -> Result<()> {
    h.browser()
        .execute(
            "const hidden = arguments[0];
             Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
             document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));",
            vec![json!(hidden)],
        )
        .await?;
    Ok(())
}

/// The first number in `said` ("retrying in 12 s…"): the seconds a wait is said to have left.
pub fn seconds_in(said: &str) -> Result<u32> {
    said.split_whitespace()
        .find_map(|w| w.parse().ok())
        .ok_or_else(|| anyhow!("no seconds in {said:?}"))
}

/// Checks that `said` ("… wait N s more …") tells the seconds left of a rate limit of `of`
/// seconds that began moments ago (within 20 s).
pub fn assert_seconds_left(said: &str, of: u32) -> Result<()> {
    let left = seconds_in(said)?;
    voicebip_e2e::anyhow::ensure!(
        (of.saturating_sub(20)..=of).contains(&left),
        "the seconds left of {of}: {said:?}"
    );
    Ok(())
}
