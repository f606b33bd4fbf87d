//! The release build keeps the thread pane's code in a wasm chunk of its own (xtask/src/split.rs):
//! the inbox starts without it, and a chunk that cannot be downloaded leaves the console running,
//! says so in the pane and loads on "Try again".

use crate::common::*;
use serde_json::json;
use std::time::Duration;
use voicebip_e2e::anyhow::Result;
use voicebip_e2e::{poll_until, with_harness, Harness, Options};

/// The chunk's file name, whatever its content hash.
const CHUNK: &str = "split_thread_pane-";

/// The bench's instruments (tests/bench/probe.js): `window.__bench.firstRowFrame` is when the
/// frame that paints the first conversation row ran its animation frame callbacks, before
/// painting (`firstRow`, when it had rendered, is the bench's figure).
const PROBE: &str = include_str!("../../bench/probe.js");

async fn block_chunk(h: &Harness, blocked: bool) -> Result<()> {
    let urls = if blocked {
        vec![format!("*{CHUNK}*")]
    } else {
        vec![]
    };
    h.cdp("Network.setBlockedURLs", json!({ "urls": urls }))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_thread_chunk_loads_apart_and_a_failed_download_can_be_retried() {
    with_harness(Options::default(), async |h: &Harness| {
        h.cdp("Network.enable", json!({})).await?;
        block_chunk(h, true).await?;
        sign_in(h).await?;
        let id = newest_conversation_id(h).await?;

        // The inbox runs without the chunk; the pane says what failed and offers a retry.
        clear_requests(h).await?;
        h.open(&format!("/conversations/{id}")).await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        let banner = wait_text(h, "#thread-chunk-error", "could not be downloaded", SCREEN).await?;
        assert!(banner.contains("Try again"), "{banner:?}");
        assert_eq!(count(h, "article#thread").await?, 0);
        assert_no_crash(h).await?;
        // The conversation's newest page did not wait for the chunk (which never came): it left
        // as the app started, once.
        poll_until("the thread's early request", SCREEN, || async {
            Ok((!newest_page_requests(h, &id).await?.is_empty()).then_some(()))
        })
        .await?;
        settle("a second request, were there one", Duration::from_secs(1)).await;
        let asked = newest_page_requests(h, &id).await?;
        assert_eq!(asked.len(), 1, "{asked:?}");

        block_chunk(h, false).await?;
        h.click("#thread-chunk-error-retry").await?;
        wait_thread(h, &id).await?;
        wait_gone(h, "#thread-chunk-error", SCREEN).await?;
        assert_no_crash(h).await?;

        // A fresh load of the inbox fetches the chunk ahead of the operator opening a
        // conversation, but only after the frame that paints the first rows, which it would
        // otherwise compete with.
        h.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": PROBE }),
        )
        .await?;
        h.open("/conversations").await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        let chunk_fetched = || async {
            let v = h
                .browser()
                .execute(
                    "const chunk = performance.getEntriesByType('resource')
                         .find(e => e.name.includes(arguments[0]));
                     const painted = window.__bench && window.__bench.firstRowFrame;
                     return chunk && painted ? [chunk.startTime, painted] : null;",
                    vec![json!(CHUNK)],
                )
                .await?;
            Ok(serde_json::from_value::<Option<(f64, f64)>>(v)?)
        };
        let (asked, painted) =
            poll_until("the chunk is fetched ahead of need", SCREEN, chunk_fetched).await?;
        assert!(
            asked >= painted,
            "the chunk was asked for at {asked} ms, before the first rows' frame at {painted} ms"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_serving_wasm_without_its_type_still_opens_the_thread() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let id = newest_conversation_id(h).await?;
        settings(h, json!({ "wasm_untyped": true })).await?;
        // Signing in cached the hashed files (the simulator serves them immutable, as a CDN
        // should): without this, the load below would not ask the host for them at all.
        h.cdp("Network.clearBrowserCache", json!({})).await?;

        // A fresh load: the main module and the chunk both come as application/octet-stream, so
        // neither can be compiled while streaming; both fall back to compiling their bytes.
        open_thread(h, &id).await?;
        assert_no_crash(h).await?;
        let log = h.browser_log().await?;
        assert!(
            log.iter().any(|e| e.message.contains("application/wasm")),
            "wasm-bindgen's loader noticed the type, so the setting took effect: {log:#?}"
        );
        assert!(
            loaded_urls(h).await?.iter().any(|u| u.contains(CHUNK)),
            "the thread came from the chunk"
        );
        Ok(())
    })
    .await;
}
