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

/// How long ago something was, from whole minutes, worded as the reference page words it
/// (`None`: more than 30 days, which the reference shows as the date).
fn ago(minutes: i64) -> Option<String> {
    Some(match minutes {
        m if m < 1 => "just now".into(),
        m if m < 60 => format!("{m} min ago"),
        m if m < 1440 => format!("{} h ago", m / 60),
        m if m < 43200 => format!("{} d ago", m / 1440),
        _ => return None,
    })
}

fn relative(iso: &str, now: f64) -> String {
    let minutes = ((now - js_sys::Date::parse(iso)) / 60_000.0).floor() as i64;
    ago(minutes).unwrap_or_else(|| iso.get(..10).unwrap_or(iso).into())
}

/// A WhatsApp window's badge from the milliseconds it has left, as the reference page shows it.
fn window_badge_text(left_ms: f64) -> (&'static str, String) {
    if left_ms <= 0.0 {
        return ("badge window-state window-expired", "Window closed".into());
    }
    let minutes = (left_ms / 60_000.0).floor() as i64;
    (
        "badge window-state window-open",
        format!("Window closes in {} h {} min", minutes / 60, minutes % 60),
    )
}

fn window_badge(row: &Row, now: f64) -> Option<(&'static str, String)> {
    (row.channel == "whatsapp").then(|| {
        window_badge_text(
            row.window_expires_at
                .as_deref()
                .map_or(0.0, |at| js_sys::Date::parse(at) - now),
        )
    })
}

/// The rows a list this tall shows, and the overscan below them (the reference's formula).
fn rows_for(height_px: i32) -> usize {
    (height_px.max(0) as usize).div_ceil(ROW_PX) + OVERSCAN
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
        <li
            class="conversation-row"
            data-conversation-id=row.conversation_id.clone()
            data-index=index
            style:top=format!("{}px", index * ROW_PX)
        >
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
    let scroller = NodeRef::<leptos::html::Div>::new();
    // The first page, and how many of its rows the list shows; `None` until it is here.
    let shown = RwSignal::new(None::<(Vec<Row>, usize)>);
    let base = stored("voicebip.base").unwrap_or_default();
    let key = stored("voicebip.key").unwrap_or_default();
    leptos::task::spawn_local(async move {
        let rows = first_page(&base, &key).await.unwrap_or_default();
        // Laid out by now, as the reference page's list is when it renders its rows.
        let height = scroller.get_untracked().map_or(0, |el| el.client_height());
        shown.set(Some((rows, rows_for(height))));
    });
    view! {
        <main>
            <div class="inbox">
                <header class="topbar"><h1>"Conversations"</h1></header>
                <section class="list-pane" aria-label="Conversation list">
                    <div class="conversation-scroller" node_ref=scroller>
                        <ul
                            id="conversation-list"
                            aria-label="Conversations"
                            style:height=move || {
                                let loaded = shown.with(|s| s.as_ref().map_or(0, |(r, _)| r.len()));
                                format!("{}px", loaded * ROW_PX)
                            }
                        >
                            {move || {
                                let now = js_sys::Date::now();
                                let (rows, fits) = shown.get().unwrap_or_default();
                                rows.into_iter()
                                    .take(fits)
                                    .enumerate()
                                    .map(|(i, row)| row_view(i, row, now))
                                    .collect_view()
                            }}
                        </ul>
                        <div class="list-footer">
                            {move || match shown.with(Option::is_some) {
                                false => view! { <p>"Loading conversations…"</p> }.into_any(),
                                true => view! {
                                    <button type="button" id="load-more">"Load more"</button>
                                }
                                .into_any(),
                            }}
                        </div>
                    </div>
                </section>
                <section class="thread-pane" aria-label="Conversation">
                    <p class="no-thread">"Select a conversation to read it."</p>
                </section>
            </div>
        </main>
    }
}

fn main() {
    leptos::mount::mount_to_body(Floor);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_worded_as_the_reference_words_them() {
        assert_eq!(ago(0).as_deref(), Some("just now"));
        assert_eq!(ago(59).as_deref(), Some("59 min ago"));
        assert_eq!(ago(60).as_deref(), Some("1 h ago"));
        assert_eq!(ago(1439).as_deref(), Some("23 h ago"));
        assert_eq!(ago(2880).as_deref(), Some("2 d ago"));
        assert_eq!(ago(43200), None);
    }

    #[test]
    fn window_badges_read_as_the_reference_shows_them() {
        assert_eq!(window_badge_text(0.0).1, "Window closed");
        let open = window_badge_text(((2 * 60 + 5) * 60_000) as f64 + 30_000.0);
        assert_eq!(
            open,
            (
                "badge window-state window-open",
                "Window closes in 2 h 5 min".into()
            )
        );
    }

    #[test]
    fn a_list_shows_what_fits_and_the_overscan() {
        assert_eq!(rows_for(0), OVERSCAN);
        assert_eq!(rows_for(720), 10 + OVERSCAN);
        assert_eq!(rows_for(721), 11 + OVERSCAN);
    }
}
