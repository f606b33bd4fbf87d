//! Export an agent's conversations as CSV or JSON: streamed with progress (bytes and rows so
//! far), cancellable, and saved as a file with a meaningful name.

use super::announcer::said_anew;
use super::focus::{focus_after_render, focus_within};
use crate::api::deadline::{self, SILENCE_LIMIT_MS};
use crate::api::retry::RateWait;
use crate::api::ApiError;
use crate::model::export::{file_name, human_bytes, saved_message, ExportFormat, Progress};
use crate::model::AgentId;
use crate::state::session::use_session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[derive(Debug, Clone, PartialEq)]
enum ExportState {
    Idle,
    Running { bytes: u64, rows: u64 },
    Done { file: String, rows: u64 },
    Cancelled,
    Failed(String),
}

/// `listed`: the agent the inbox is filtered to, which the box shows until the operator picks
/// another there: an export from a list of agent B's was of the first agent, A, by name.
#[component]
pub fn ExportPanel(
    #[prop(into)] agents: Signal<Vec<AgentId>>,
    listed: Signal<Option<AgentId>>,
) -> impl IntoView {
    let session = use_session();
    // Read from the select itself when Export is pressed: what it shows is what is exported,
    // however its options changed since (agents found on later pages, a filter that narrowed
    // them), which a copy kept on `change` did not follow.
    let agent_select = NodeRef::<leptos::html::Select>::new();
    let picked = RwSignal::new(None::<AgentId>);
    let shown = Signal::derive(move || picked.get().or_else(|| listed.get()));
    let format = RwSignal::new(ExportFormat::Csv);
    let state = RwSignal::new(ExportState::Idle);
    let abort = StoredValue::new_local(None::<web_sys::AbortController>);
    // The wait the rate limit that failed the last export asked for.
    let rate_wait = StoredValue::new(RateWait::default());
    let announcer = use_context::<super::announcer::Announcer>();
    let running = move || matches!(state.get(), ExportState::Running { .. });
    // How many refusals were said before a run: the same one again is said again.
    let refusals = RwSignal::new(0u32);
    let refuse = move |said: String| {
        refusals.update(|n| *n = n.wrapping_add(1));
        state.set(ExportState::Failed(said));
    };

    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if matches!(state.get_untracked(), ExportState::Running { .. }) {
            // (Marked unavailable, which a press on it would otherwise leave unanswered.)
            if let Some(a) = announcer {
                a.announce("An export is already under way: wait for it, or Cancel it.");
            }
            return;
        }
        let Some(client) = session.client.get_untracked() else {
            return;
        };
        let agent_id = agent_select
            .get_untracked()
            .map(|s| s.value())
            .filter(|v| !v.is_empty())
            .map(AgentId);
        let Some(agent_id) = agent_id else {
            refuse("Choose an agent to export.".into());
            return;
        };
        if let Some(said) = rate_wait.with_value(|w| w.refusal(js_sys::Date::now())) {
            refuse(said);
            return;
        }
        let Ok(controller) = web_sys::AbortController::new() else {
            return;
        };
        let signal = controller.signal();
        abort.set_value(Some(controller.clone()));
        let fmt = format.get_untracked();
        state.set(ExportState::Running { bytes: 0, rows: 0 });
        spawn_local(async move {
            let result = run_export(&client, &agent_id, fmt, &signal, state).await;
            let cancelled = signal.aborted();
            abort.set_value(None);
            // Ends what is left of the download: a body given up on as silent, or left unread.
            controller.abort();
            // (`try_`: the panel may have gone with the session meanwhile.)
            // A rate limit's wait cancelled part way is still the workspace's to wait out: the
            // next press is told what is left of it rather than spend the shared budget again.
            let failure = result
                .as_ref()
                .err()
                .filter(|e| !cancelled || matches!(e, ApiError::RateLimited { .. }));
            rate_wait.try_update_value(|w| w.heard(failure, js_sys::Date::now()));
            match result {
                Ok(done) => state.set(done),
                Err(_) if cancelled => state.set(ExportState::Cancelled),
                Err(e) => {
                    session.check(&client, &e);
                    state.set(ExportState::Failed(e.user_message()));
                }
            }
        });
    };
    let stop = move || {
        abort.try_with_value(|a| {
            if let Some(a) = a {
                a.abort();
            }
        });
    };
    let cancel = move |_| stop();
    // The panel goes with the session (Sign out, a refused key): so does an export under way,
    // which would otherwise go on reading with the old key and save its file after the operator
    // has left.
    on_cleanup(stop);

    // A memo, so the button is built once per run rather than on every progress update.
    let show_cancel = Memo::new(move |_| running());
    view! {
        <form id="export-form" class="export" on:submit=start aria-label="Export conversations">
            <label for="export-agent">
                "Export agent"
                <select
                    id="export-agent"
                    node_ref=agent_select
                    on:change=move |ev| picked.set(Some(AgentId(event_target_value(&ev))))
                >
                    <AgentOptions agents=agents selected=shown/>
                </select>
            </label>
            <label for="export-format">
                "Format"
                <select
                    id="export-format"
                    on:change=move |ev| {
                        if let Some(f) = ExportFormat::from_param(&event_target_value(&ev)) {
                            format.set(f);
                        }
                    }
                >
                    <option value="csv">"CSV"</option>
                    <option value="json">"JSON"</option>
                </select>
            </label>
            // `aria-disabled`, not `disabled`: a disabled button loses the focus it has.
            <button type="submit" id="export-start" aria-disabled=move || show_cancel.get().to_string()>
                "Export"
            </button>
            {move || {
                let shown = show_cancel.get();
                // (This runs before a Cancel that had the focus leaves the page.)
                if !shown && focus_within("#export-cancel") {
                    focus_after_render("#export-start".to_owned());
                }
                shown.then(|| view! {
                    <button type="button" id="export-cancel" on:click=cancel>"Cancel"</button>
                })
            }}
            <div id="export-status">
                // Said: a run's start, once (its words are built once a run, not at every
                // chunk), and its end.
                <span role="status">
                    {move || if show_cancel.get() {
                        view! { <span class="visually-hidden">"Exporting…"</span> }.into_any()
                    } else { match state.get() {
                        ExportState::Idle | ExportState::Running { .. } => ().into_any(),
                        ExportState::Done { file, rows } => view! {
                            <span id="export-done" data-rows=rows>{saved_message(&file, rows)}</span>
                        }.into_any(),
                        ExportState::Cancelled => view! { <span id="export-cancelled">"Export cancelled"</span> }.into_any(),
                        ExportState::Failed(m) => view! { <span id="export-error" class="error">{said_anew(m, refusals.get())}</span> }.into_any(),
                    }}}
                </span>
                // Shown, and there to be read, but not read out: the counts move at every chunk.
                {move || show_cancel.get().then(|| {
                    let counts = move || match state.get() {
                        ExportState::Running { bytes, rows } => (bytes, rows),
                        _ => (0, 0),
                    };
                    view! {
                        <progress id="export-progress" aria-label="Export progress"></progress>
                        <span id="export-counts" data-rows=move || counts().1>
                            {move || {
                                let (bytes, rows) = counts();
                                format!("{} · {rows} conversations so far", human_bytes(bytes))
                            }}
                        </span>
                    }
                })}
            </div>
        </form>
    }
}

/// One `<option>` per agent, selected when it is the agent `selected` names. Shared by the
/// export panel and the inbox's agent filter: one keyed list in the wasm instead of two.
#[component]
pub fn AgentOptions(
    agents: Signal<Vec<AgentId>>,
    selected: Signal<Option<AgentId>>,
) -> impl IntoView {
    view! {
        <For each=move || agents.get() key=|a| a.clone() let:agent>
            {
                let value = agent.to_string();
                view! {
                    <option
                        value=value.clone()
                        // The property, not the attribute: an option the operator once picked
                        // no longer follows its attribute (HTML's "dirtiness"), so after Back
                        // the select would show another filter than the list's.
                        prop:selected=move || selected.with(|s| s.as_ref() == Some(&agent))
                    >
                        {value.clone()}
                    </option>
                }
            }
        </For>
    }
}

const CUT_SHORT: &str =
    "The export was cut short before its end, so nothing was saved: export again.";
/// A `200` whose body is a web page: a gateway's or proxy's sign-in page, in place of the API.
const A_WEB_PAGE: &str = "A web page came back in place of the export (a sign-in page of a \
    proxy in front of Voicebip?), so nothing was saved. Check the API URL or the network.";

const NOT_SAVED: &str =
    "The export came in whole, but the browser could not make a file of it (short of memory?): export again.";

async fn run_export(
    client: &crate::api::Client,
    agent: &AgentId,
    format: ExportFormat,
    signal: &web_sys::AbortSignal,
    state: RwSignal<ExportState>,
) -> Result<ExportState, ApiError> {
    let js_err = |e: JsValue| ApiError::Network(format!("{e:?}"));
    let crate::api::Begun {
        response,
        reader,
        first,
    } = client.open_export(agent, format, signal).await?;
    let content_type = response.headers().get("Content-Type").unwrap_or_default();
    if content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("text/html")
    {
        // (Not read past its first chunk: its download ends with the run's `controller.abort()`.)
        return Ok(ExportState::Failed(A_WEB_PAGE.into()));
    }
    let chunks = js_sys::Array::new();
    let mut progress = Progress::new(format);
    let mut first = Some(first);
    loop {
        let next = match first.take() {
            Some(step) => Some(Ok(step)),
            None => deadline::within(SILENCE_LIMIT_MS, JsFuture::from(reader.read())).await,
        };
        let step = match next {
            Some(Ok(step)) => step,
            // The connection was lost after the body began: not the API's address's fault, as
            // a failure to reach it says, but the same as a cut.
            Some(Err(_)) if !signal.aborted() => return Ok(ExportState::Failed(CUT_SHORT.into())),
            Some(Err(e)) => return Err(js_err(e)),
            None => {
                return Ok(ExportState::Failed(format!(
                    "The export stopped coming (nothing for {} s), so nothing was saved: export \
                     again.",
                    SILENCE_LIMIT_MS / 1000
                )))
            }
        };
        let done = js_sys::Reflect::get(&step, &"done".into())
            .map_err(js_err)?
            .as_bool()
            .unwrap_or(true);
        if done {
            break;
        }
        let value = js_sys::Reflect::get(&step, &"value".into()).map_err(js_err)?;
        let chunk: js_sys::Uint8Array = value.unchecked_into();
        progress.feed(&chunk.to_vec());
        chunks.push(&chunk);
        state.set(ExportState::Running {
            bytes: progress.bytes,
            rows: progress.rows(),
        });
    }
    if progress.is_a_web_page() {
        return Ok(ExportState::Failed(A_WEB_PAGE.into()));
    }
    if !progress.complete() {
        return Ok(ExportState::Failed(CUT_SHORT.into()));
    }
    let file = file_name(agent, format, chrono::Local::now().date_naive());
    // The browser's own failure (no memory for the file's blob or its address), not the API's:
    // "could not reach Voicebip" would send the operator to the network. (A download the
    // browser blocks fails without a word, after the click.)
    if save(&chunks, format.mime(), &file).is_err() {
        return Ok(ExportState::Failed(NOT_SAVED.into()));
    }
    Ok(ExportState::Done {
        file,
        rows: progress.rows(),
    })
}

/// Hands the bytes to the browser as a download.
fn save(chunks: &js_sys::Array, mime: &str, file: &str) -> Result<(), JsValue> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(chunks, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a")?.unchecked_into();
    a.set_href(&url);
    a.set_download(file);
    // In the document while clicked, and the URL kept a while: some browsers read the blob
    // after the click returns, and a URL revoked at once saved nothing, or an empty file.
    let body = document
        .body()
        .ok_or_else(|| JsValue::from_str("no body"))?;
    body.append_child(&a)?;
    a.click();
    a.remove();
    gloo_timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}
