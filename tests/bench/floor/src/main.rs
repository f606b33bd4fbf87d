//! The bench's Leptos floor: the reference page's first screen (a header and the first rows of
//! the conversation list) written as a minimal Leptos app, built with the console's settings.
//!
//! `cargo xtask bench` measures its cold load next to the console's and the reference page's, so
//! the table tells the framework's share of the console's cold load from the console's own. Only
//! the cold load: no paging, no thread, no error handling (a failed request shows no rows).

use leptos::prelude::*;
use serde::Deserialize;

/// The console's and the reference page's row height and overscan.
const ROW_PX: usize = 72;
const OVERSCAN: usize = 6;
const PAGE_SIZE: usize = 50;

#[derive(Deserialize, Clone)]
struct Row {
    conversation_id: String,
    from_number: String,
    channel: String,
    last_message_at: String,
    window_expires_at: Option<String>,
}

#[derive(Deserialize)]
struct Page {
    conversations: Vec<Row>,
}

/// What the bench's probe signs in with (the console and the reference page read the same).
fn stored(key: &str) -> Option<String> {
    web_sys::window()?
        .session_storage()
        .ok()??
        .get_item(key)
        .ok()?
}

async fn first_page(base: &str, key: &str) -> Option<Vec<Row>> {
    let url = format!("{base}/conversations?page_size={PAGE_SIZE}");
    let response = gloo_net::http::Request::get(&url)
        .header("Authorization", &format!("Bearer {key}"))
        .send()
        .await
        .ok()?;
    let page: Page = response.json().await.ok()?;
    Some(page.conversations)
}

/// How long ago `iso` was, worded as the reference page words it.
fn relative(iso: &str, now: f64) -> String {
    let minutes = ((now - js_sys::Date::parse(iso)) / 60_000.0).floor() as i64;
    match minutes {
        m if m < 1 => "just now".into(),
        m if m < 60 => format!("{m} min ago"),
        m if m < 1440 => format!("{} h ago", m / 60),
        m if m < 43200 => format!("{} d ago", m / 1440),
        _ => iso.get(..10).unwrap_or(iso).into(),
    }
}

fn window_badge(row: &Row, now: f64) -> Option<(&'static str, String)> {
    if row.channel != "whatsapp" {
        return None;
    }
    let left = row
        .window_expires_at
        .as_deref()
        .map_or(0.0, |at| js_sys::Date::parse(at) - now);
    if left <= 0.0 {
        return Some(("badge window-state window-expired", "Window closed".into()));
    }
    let minutes = (left / 60_000.0).floor() as i64;
    Some((
        "badge window-state window-open",
        format!("Window closes in {} h {} min", minutes / 60, minutes % 60),
    ))
}

fn row_view(index: usize, row: Row, now: f64) -> impl IntoView {
    let badge =
        window_badge(&row, now).map(|(class, text)| view! { <span class=class>{text}</span> });
    let channel = if row.channel == "sms" {
        "SMS"
    } else {
        "WhatsApp"
    };
    view! {
        <li class="conversation-row" style:top=format!("{}px", index * ROW_PX)>
            <a href=format!("?c={}", row.conversation_id)>
                <span class="row-main">
                    <span class="remote-number">{row.from_number}</span>
                    <span class=format!("badge channel-badge channel-{}", row.channel)>{channel}</span>
                </span>
                <span class="row-meta">
                    <time class="last-message-time" datetime=row.last_message_at.clone()>
                        {relative(&row.last_message_at, now)}
                    </time>
                    {badge}
                </span>
            </a>
        </li>
    }
}

#[component]
fn Floor() -> impl IntoView {
    let rows = RwSignal::new(Vec::<Row>::new());
    let base = stored("voicebip.base").unwrap_or_default();
    let key = stored("voicebip.key").unwrap_or_default();
    leptos::task::spawn_local(async move {
        if let Some(page) = first_page(&base, &key).await {
            rows.set(page);
        }
    });
    // The rows a window this tall shows, and the overscan below them.
    let fits = web_sys::window()
        .and_then(|w| w.inner_height().ok())
        .and_then(|h| h.as_f64())
        .unwrap_or(800.0) as usize
        / ROW_PX
        + 1
        + OVERSCAN;
    view! {
        <main>
            <div class="inbox">
                <header class="topbar"><h1>"Conversations"</h1></header>
                <section class="list-pane" aria-label="Conversation list">
                    <div class="conversation-scroller">
                        <ul
                            id="conversation-list"
                            aria-label="Conversations"
                            style:height=move || format!("{}px", rows.with(Vec::len) * ROW_PX)
                        >
                            {move || {
                                let now = js_sys::Date::now();
                                rows.get()
                                    .into_iter()
                                    .take(fits)
                                    .enumerate()
                                    .map(|(i, row)| row_view(i, row, now))
                                    .collect_view()
                            }}
                        </ul>
                    </div>
                </section>
            </div>
        </main>
    }
}

fn main() {
    leptos::mount::mount_to_body(Floor);
}
