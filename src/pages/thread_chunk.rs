//! The thread pane as a wasm chunk of its own. Release builds (`cargo xtask dist`, which sets
//! `--cfg voicebip_split`) move the code only the thread uses into a second file, fetched when a
//! conversation is first opened or once the inbox's rows have been painted, so the first screen
//! downloads and compiles less (`xtask/src/split.rs`). Other builds (component tests,
//! `trunk serve`) link it in and call it directly.

use crate::components::error_banner::ErrorBanner;
use crate::pages::thread::{inbox_href, ThreadPage};
use leptos::prelude::*;
use leptos_router::components::A;

/// The chunk could not be fetched or instantiated: offline, or a deploy replaced the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkUnavailable;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkUnavailable {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkUnavailable
    }
}

/// The split point: with `voicebip_split` this becomes an `async fn` that loads the chunk first,
/// and a failed load is an `Err` (`fallible`) instead of a panic that would end the app.
#[cfg_attr(
    voicebip_split,
    leptos::wasm_split::wasm_split(
        thread_pane,
        wasm_split_path = ::leptos::wasm_split,
        preload(fetch_thread_chunk),
        fallible
    )
)]
fn thread_pane() -> Result<AnyView, ChunkUnavailable> {
    Ok(view! { <ThreadPage/> }.into_any())
}

#[cfg(voicebip_split)]
use self::thread_pane as load_thread_pane;

#[cfg(not(voicebip_split))]
async fn load_thread_pane() -> Result<AnyView, ChunkUnavailable> {
    thread_pane()
}

/// Starts fetching the chunk without waiting for it, so that opening a conversation later does
/// not. A failure here is left to the pane, which retries and says so.
pub fn preload() {
    #[cfg(voicebip_split)]
    leptos::task::spawn_local(async {
        let _ = fetch_thread_chunk().await;
    });
}

/// [`preload`], once the frame being prepared has been painted: for the inbox, whose first rows
/// come first. Fetching and compiling the chunk before that frame made it later (the paired cold
/// loads are in tests/bench/FINDINGS.md).
pub fn preload_after_paint() {
    // A timeout set from an animation frame callback runs after that frame is painted.
    #[cfg(voicebip_split)]
    request_animation_frame(|| set_timeout(preload, std::time::Duration::ZERO));
}

/// The open conversation, once its code is here: the thread's own "Loading…" until then, and a
/// way to try again if the chunk could not be fetched.
#[component]
pub fn ThreadPane() -> impl IntoView {
    let attempt = RwSignal::new(0u32);
    let pane = move || {
        attempt.track();
        Suspend::new(async move {
            match load_thread_pane().await {
                Ok(view) => view,
                Err(ChunkUnavailable) => view! {
                    <A href=inbox_href() attr:class="back-link">"← All conversations"</A>
                    <ErrorBanner
                        id="thread-chunk-error"
                        message="This part of the console could not be downloaded. Check the connection and try again, or reload the page.".to_string()
                        on_retry=Callback::new(move |_| attempt.update(|n| *n += 1))
                        refocus=&[".thread-pane", "#main"]
                    />
                }
                .into_any(),
            }
        })
    };
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading conversation…"</p> }>
            {pane}
        </Suspense>
    }
}
