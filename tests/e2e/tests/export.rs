//! Exporting an agent's conversations: streamed with progress, capped at the API's 10,000,
//! saved as a real download with a meaningful name, cancellable, and never freezing the page.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::{json, Value};
use voicebip_e2e::anyhow::{anyhow, bail, ensure, Context, Result};
use voicebip_e2e::{poll_until, with_harness, Harness, Locator, Options, SimConfig, DEMO_KEY};

/// A 10,000-row export in a debug build on 2 cores takes a few seconds; leave room.
const EXPORT: Duration = Duration::from_secs(90);
const LIMIT: u64 = voicebip_sim::EXPORT_LIMIT as u64;

fn options() -> Options {
    Options {
        sim: SimConfig {
            traffic_per_minute: 0.0,
            // Paging through 10,000 conversations for the API's own count costs requests.
            rate_limit_per_minute: 100_000,
            ..SimConfig::default()
        },
        ..Options::default()
    }
}

async fn agents(h: &Harness) -> Result<Vec<String>> {
    let info = h.sim_get("/sim/info").await?;
    info["agents"]
        .as_array()
        .ok_or_else(|| anyhow!("no agents in /sim/info: {info}"))?
        .iter()
        .map(|a| str_field(a, "agent_id"))
        .collect()
}

/// `count` new conversations for `agent`, newer than everything else.
async fn bulk(h: &Harness, agent: &str, count: u64) -> Result<()> {
    h.sim_post("/sim/bulk", &json!({ "agent_id": agent, "count": count }))
        .await
        .map(drop)
}

/// Marks the test's own export requests in the simulator's log (unknown parameters are
/// ignored), to tell them from the console's.
const OURS: &str = "by=e2e-test";

/// The API's own export, as bytes.
async fn api_export(h: &Harness, agent: &str, format: &str) -> Result<Vec<u8>> {
    let url = h.sim_url(&format!(
        "/v1/agents/{agent}/conversations/export?format={format}&{OURS}"
    ));
    let response = reqwest::Client::new()
        .get(&url)
        .bearer_auth(DEMO_KEY)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("{url} answered {}", response.status());
    }
    Ok(response.bytes().await?.to_vec())
}

/// Today in the browser (its local date, as the console's file names have it), and tomorrow,
/// in case the test runs across midnight.
async fn browser_dates(h: &Harness) -> Result<Vec<String>> {
    let v = h
        .browser()
        .execute(
            "const day = d => [d.getFullYear(), String(d.getMonth() + 1).padStart(2, '0'),
                               String(d.getDate()).padStart(2, '0')].join('-');
             const d = new Date(); const t = new Date(d.getTime() + 86400000);
             return [day(d), day(t)];",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Completed downloads (Chromium writes `*.crdownload` until a file is complete).
fn downloads(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    Ok(files)
}

/// Wait for the download called `name` to be complete; its bytes.
async fn wait_download(h: &Harness, name: &str) -> Result<Vec<u8>> {
    let dir = h.downloads_dir();
    let path = dir.join(name);
    poll_until(&format!("the download {name}"), SCREEN, || async {
        let pending = downloads(&dir)?
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "crdownload"));
        Ok((path.is_file() && !pending).then_some(()))
    })
    .await
    .with_context(|| format!("in {}: {:?}", dir.display(), downloads(&dir)))?;
    Ok(std::fs::read(&path)?)
}

/// Choose `agent` and `format` in the export form and press Export.
/// Starts an export that is to fail, and waits for its failure to read `needle`: once its
/// request is in and it has ended (the message before may read the same).
async fn export_fails_with(h: &Harness, agent: &str, format: &str, needle: &str) -> Result<()> {
    let before = assert_export_requests_authorized(h, agent).await?;
    start_export(h, agent, format).await?;
    poll_until("the export asked for, and ended", SCREEN, || async {
        let asked = assert_export_requests_authorized(h, agent).await? > before;
        Ok((asked && count(h, "#export-cancel").await? == 0).then_some(()))
    })
    .await?;
    wait_text(h, "#export-error", needle, SCREEN)
        .await
        .map(drop)
}

async fn start_export(h: &Harness, agent: &str, format: &str) -> Result<()> {
    let select = h.wait_for("#export-agent", SCREEN).await?;
    poll_until(
        &format!("{agent} among the export agents"),
        SCREEN,
        || async {
            let values = h.attrs("#export-agent option", "value").await?;
            Ok(values
                .iter()
                .any(|v| v.as_deref() == Some(agent))
                .then_some(()))
        },
    )
    .await?;
    select.select_by_value(agent).await?;
    h.browser()
        .find(Locator::Css("#export-format"))
        .await?
        .select_by_value(format)
        .await?;
    h.click("#export-start").await
}

/// `#export-done`'s row count and text, once the export finished.
async fn wait_done(h: &Harness) -> Result<(u64, String)> {
    let found = poll_until("#export-done", EXPORT, || async {
        if count(h, "#export-error").await? > 0 {
            let e = h.texts("#export-error").await?;
            bail!("the export failed: {e:?}");
        }
        let rows = h.attrs("#export-done", "data-rows").await?;
        Ok(rows.first().cloned().flatten())
    })
    .await?;
    let rows = found
        .parse()
        .with_context(|| format!("#export-done[data-rows={found}]"))?;
    let text = h.texts("#export-done").await?.join("");
    Ok((rows, text))
}

/// How many conversations the API lists for `agent` (all pages).
async fn api_count(h: &Harness, agent: &str) -> Result<u64> {
    Ok(api_list_all(h, &format!("agent_id={agent}")).await?.len() as u64)
}

/// Every export request the console made: with the header, never with the key in the URL.
async fn assert_export_requests_authorized(h: &Harness, agent: &str) -> Result<usize> {
    let path = format!("/v1/agents/{agent}/conversations/export");
    let calls: Vec<_> = requests(h, "GET", |p| p == path)
        .await?
        .into_iter()
        .filter(|r| !r.query.as_deref().unwrap_or_default().contains(OURS))
        .collect();
    for call in &calls {
        if !call.has_authorization || call.query_has_token {
            bail!("the export must carry the key in the Authorization header only: {call:?}");
        }
        let query = call.query.as_deref().unwrap_or_default();
        if query.contains(DEMO_KEY) || query.contains("token") || query.contains("key") {
            bail!("the export URL carries a credential: {call:?}");
        }
    }
    Ok(calls.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_and_json_exports_save_every_row_under_a_meaningful_name() {
    with_harness(options(), async |h: &Harness| {
        let agent = agents(h).await?.remove(1);
        let expected = api_count(h, &agent).await?;
        assert!(expected > 20, "the seed gives this agent conversations");
        sign_in(h).await?;
        clear_requests(h).await?;

        start_export(h, &agent, "csv").await?;
        let (rows, text) = wait_done(h).await?;
        assert_eq!(
            h.focused_id().await?,
            "export-start",
            "Export keeps the focus while it runs"
        );
        assert_eq!(
            rows, expected,
            "the CSV has the API's {expected} conversations"
        );
        let dates = browser_dates(h).await?;
        let names: Vec<String> = dates
            .iter()
            .map(|d| format!("voicebip-{agent}-conversations-{d}.csv"))
            .collect();
        let (date, name) = poll_until("the CSV download", SCREEN, || async {
            let files = downloads(&h.downloads_dir())?;
            Ok(dates
                .iter()
                .zip(&names)
                .find(|(_, n)| files.iter().any(|f| f.ends_with(n.as_str())))
                .map(|(d, n)| (d.clone(), n.clone())))
        })
        .await
        .with_context(|| {
            format!(
                "expected one of {names:?} in {:?}",
                downloads(&h.downloads_dir())
            )
        })?;
        assert_eq!(
            text,
            format!("Saved {name} ({expected} conversations, SMS and WhatsApp)"),
            "#export-done says what was saved"
        );
        let csv = wait_download(h, &name).await?;
        assert_eq!(
            csv,
            api_export(h, &agent, "csv").await?,
            "the saved file is the API's export, byte for byte"
        );
        let lines = String::from_utf8(csv)?.matches("\r\n").count() as u64;
        assert_eq!(
            lines,
            expected + 1,
            "a header and one record per conversation"
        );

        // JSON, same agent.
        start_export(h, &agent, "json").await?;
        let (rows, _) = wait_done(h).await?;
        assert_eq!(rows, expected);
        let json_name = format!("voicebip-{agent}-conversations-{date}.json");
        let saved = wait_download(h, &json_name).await?;
        let parsed: Value = serde_json::from_slice(&saved).context("the JSON export parses")?;
        let items = parsed["conversations"]
            .as_array()
            .ok_or_else(|| anyhow!("no conversations array"))?;
        assert_eq!(items.len() as u64, expected);
        assert!(items.iter().all(|c| c["agent_id"] == agent.as_str()));
        assert_eq!(saved, api_export(h, &agent, "json").await?);

        assert_eq!(
            downloads(&h.downloads_dir())?.len(),
            2,
            "one file per export: {:?}",
            downloads(&h.downloads_dir())?
        );
        assert_eq!(assert_export_requests_authorized(h, &agent).await?, 2);
        assert_no_crash(h).await?;
        Ok(())
    })
    .await;
}

/// Starts a 50 ms tick counter and a recorder of the progress the status shows.
const WATCH: &str = r#"
window.__ticks = [];
window.__tickTimer = setInterval(() => window.__ticks.push(performance.now()), 50);
window.__progress = [];
const status = document.getElementById('export-status');
const record = () => {
  for (const e of status.querySelectorAll('[data-rows]')) {
    window.__progress.push({ id: e.id, rows: Number(e.getAttribute('data-rows')), at: performance.now() });
  }
};
new MutationObserver(record).observe(status, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-rows'] });
return performance.now();
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_rows_stream_with_progress_without_freezing_the_page() {
    with_harness(options(), async |h: &Harness| {
        let agent = agents(h).await?.remove(0);
        // More than the export's limit, all newer than the seed: the first inbox page is theirs.
        bulk(h, &agent, LIMIT + 50).await?;
        assert!(api_count(h, &agent).await? > LIMIT);
        sign_in(h).await?;
        clear_requests(h).await?;

        let started_at = h.browser().execute(WATCH, vec![]).await?.as_f64().unwrap_or(0.0);
        let clock = Instant::now();
        start_export(h, &agent, "csv").await?;
        let (rows, text) = wait_done(h).await?;
        let took = clock.elapsed();
        assert_eq!(rows, LIMIT, "exactly the API's limit: {text}");

        let v = h
            .browser()
            .execute(
                "clearInterval(window.__tickTimer);
                 return { ticks: window.__ticks, progress: window.__progress, now: performance.now() };",
                vec![],
            )
            .await?;
        let ticks: Vec<f64> = serde_json::from_value(v["ticks"].clone())?;
        let progress: Vec<Value> = serde_json::from_value(v["progress"].clone())?;
        let done_at = progress
            .iter()
            .find(|p| p["id"] == "export-done")
            .and_then(|p| p["at"].as_f64())
            .ok_or_else(|| anyhow!("the recorder never saw #export-done: {progress:?}"))?;
        // The main thread kept running its timers throughout the export.
        let mut marks = vec![started_at];
        marks.extend(ticks.iter().copied().filter(|t| *t <= done_at));
        marks.push(done_at);
        let mut gaps: Vec<f64> = marks.windows(2).map(|w| w[1] - w[0]).collect();
        // The last, over the end's work (the file checked and handed to the browser), at the
        // usual bound; before it, one longer pause allowed, within reason: a loaded machine's
        // scheduler or a garbage collection, not the export's doing, which would be one at
        // every chunk.
        let last = gaps.pop().unwrap_or(0.0);
        gaps.sort_by(|a, b| b.total_cmp(a));
        let (worst, next) = (gaps.first().copied(), gaps.get(1).copied());
        assert!(
            last < 250.0 && worst.unwrap_or(0.0) < 500.0 && next.unwrap_or(0.0) < 250.0,
            "the page froze for {worst:?} ms, then {next:?} ms, and {last} ms at the end, \
             during a {took:?} export (ticks every 50 ms)"
        );
        // It showed how far it got on the way, rising.
        let shown: Vec<u64> = progress
            .iter()
            .filter(|p| p["id"] != "export-done")
            .filter_map(|p| p["rows"].as_u64())
            .collect();
        let intermediate: Vec<u64> = shown.iter().copied().filter(|r| *r > 0 && *r < LIMIT).collect();
        assert!(
            !intermediate.is_empty(),
            "progress showed counts between 0 and {LIMIT}: {shown:?}"
        );
        assert!(
            shown.windows(2).all(|w| w[0] <= w[1]),
            "progress never goes back: {shown:?}"
        );

        let date = browser_dates(h).await?.remove(0);
        let name = format!("voicebip-{agent}-conversations-{date}.csv");
        let csv = wait_download(h, &name).await?;
        assert_eq!(String::from_utf8_lossy(&csv).matches("\r\n").count() as u64, LIMIT + 1);
        assert_eq!(csv, api_export(h, &agent, "csv").await?);
        assert_eq!(assert_export_requests_authorized(h, &agent).await?, 1);
        assert_no_crash(h).await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_and_failed_exports_save_nothing() {
    with_harness(options(), async |h: &Harness| {
        let agent = agents(h).await?.remove(2);
        bulk(h, &agent, 3_000).await?;
        sign_in(h).await?;
        let route = "GET /v1/agents/{id}/conversations/export";

        // Cancelled while the server has not answered yet.
        fault(
            h,
            json!({ "route": route, "latency_ms": 10_000, "count": 1 }),
        )
        .await?;
        start_export(h, &agent, "csv").await?;
        h.wait_for("#export-progress", SCREEN).await?;
        // Export pressed again meanwhile: said to be under way, and nothing more asked.
        h.click("#export-start").await?;
        wait_text(h, "#live-announcer", "already under way", SCREEN).await?;
        h.click("#export-cancel").await?;
        h.wait_for("#export-cancelled", SCREEN).await?;
        poll_until("the focus back on Export", SCREEN, || async {
            Ok((h.focused_id().await? == "export-start").then_some(()))
        })
        .await?;

        // Cancelled half-way through the rows (every 500 rows now take 400 ms).
        fault(h, json!({ "route": route, "chunk_delay_ms": 400 })).await?;
        start_export(h, &agent, "csv").await?;
        poll_until("rows to arrive", SCREEN, || async {
            let rows = h
                .attrs("#export-status span[data-rows]", "data-rows")
                .await?;
            Ok(rows
                .first()
                .cloned()
                .flatten()
                .and_then(|r| r.parse::<u64>().ok())
                .filter(|r| *r > 0))
        })
        .await?;
        // The counts can be read on demand (not hidden from a screen reader), and are not read
        // out at every chunk (outside the live region).
        let counts = h
            .browser()
            .execute(
                "const e = document.querySelector('#export-status span[data-rows]');
                 return [e.closest('[aria-hidden=\"true\"]') === null,
                         e.closest('[role=status],[role=alert],[aria-live]') === null];",
                vec![],
            )
            .await?;
        assert_eq!(
            (counts[0].as_bool(), counts[1].as_bool()),
            (Some(true), Some(true)),
            "the running counts: (readable, not read out)"
        );
        h.click("#export-cancel").await?;
        h.wait_for("#export-cancelled", SCREEN).await?;
        // (That the download ended there, with no file saved, is checked below, once the rest
        // of it would have come.)
        assert_eq!(count(h, "#export-done").await?, 0);
        assert_eq!(
            count(h, "#export-cancel").await?,
            0,
            "nothing left to cancel"
        );
        clear_faults(h).await?;

        // A server error that outlasts the retries is reported, and saves nothing either.
        fault(h, json!({ "route": route, "status": 503 })).await?;
        start_export(h, &agent, "json").await?;
        h.wait_for("#export-error", SCREEN).await?;
        clear_faults(h).await?;
        let error = h.texts("#export-error").await?.join("");
        assert!(!error.trim().is_empty(), "the error says something");

        // A download cut short by a proxy that closed it as if whole is not saved as the
        // export: a JSON file without its end looked complete. (A CSV cut between records
        // cannot be told from a whole one.)
        fault(
            h,
            json!({ "route": route, "cut_body_after_chunks": 3, "count": 1 }),
        )
        .await?;
        export_fails_with(h, &agent, "json", "cut short").await?;
        // A connection lost mid-download says so (not that Voicebip could not be reached). (The
        // pace has the answer's head reach the browser first: a connection lost before it is a
        // request that failed, and tried again.)
        fault(
            h,
            json!({ "route": route, "break_body_after_chunks": 3, "chunk_delay_ms": 100, "count": 1 }),
        )
        .await?;
        export_fails_with(h, &agent, "csv", "cut short").await?;
        // A web page in place of the export (a proxy's sign-in page, with a 200) is not saved,
        // labelled as something else (told by its first bytes) or as what it is.
        fault(
            h,
            json!({ "route": route, "html_page": true, "count": 1,
                    "html_page_type": "application/octet-stream" }),
        )
        .await?;
        export_fails_with(h, &agent, "json", "web page").await?;
        fault(
            h,
            json!({ "route": route, "html_page": true, "count": 1 }),
        )
        .await?;
        export_fails_with(h, &agent, "csv", "web page").await?;

        settle(
            "a late download would have started by now",
            Duration::from_secs(3),
        )
        .await;
        let files = downloads(&h.downloads_dir())?;
        assert!(
            files.is_empty(),
            "cancelled and failed exports saved {files:?}"
        );

        // The browser failing to make the file is said as such, not as a failure to reach
        // Voicebip.
        h.browser()
            .execute(
                "window.__createObjectURL = URL.createObjectURL;
                 URL.createObjectURL = () => { throw new DOMException('blocked', 'SecurityError'); };",
                vec![],
            )
            .await?;
        start_export(h, &agent, "csv").await?;
        wait_text(h, "#export-error", "the browser could not make a file", SCREEN).await?;
        h.browser()
            .execute(
                "URL.createObjectURL = window.__createObjectURL;",
                vec![],
            )
            .await?;

        // Signing out stops an export under way: nothing is saved after the operator has left.
        fault(h, json!({ "route": route, "chunk_delay_ms": 400 })).await?;
        start_export(h, &agent, "csv").await?;
        h.wait_for("#export-progress", SCREEN).await?;
        h.click("#sign-out").await?;
        h.wait_for("form#connect-form", SCREEN).await?;
        settle(
            "the export would have finished and saved by now",
            Duration::from_secs(4),
        )
        .await;
        let files = downloads(&h.downloads_dir())?;
        assert!(files.is_empty(), "an export saved {files:?} after sign-out");
        clear_faults(h).await?;
        sign_in(h).await?;

        // The panel recovers: the next export completes.
        start_export(h, &agent, "csv").await?;
        let (rows, _) = wait_done(h).await?;
        assert_eq!(rows, api_count(h, &agent).await?);
        assert_eq!(downloads(&h.downloads_dir())?.len(), 1);
        // The request cancelled before the answer may never have been logged.
        assert!(assert_export_requests_authorized(h, &agent).await? >= 3);
        assert_no_crash(h).await?;
        Ok(())
    })
    .await;
}

/// Signs in and starts a CSV export of an agent's conversations whose answer is held back as
/// `held` says (the fault's fields, once): the agent.
async fn export_held(h: &Harness, held: Value) -> Result<String> {
    let agent = agents(h).await?.remove(2);
    bulk(h, &agent, 10).await?;
    sign_in(h).await?;
    let mut spec = json!({ "route": "GET /v1/agents/{id}/conversations/export", "count": 1 });
    if let (Some(spec), Some(held)) = (spec.as_object_mut(), held.as_object()) {
        spec.extend(held.clone());
    }
    fault(h, spec).await?;
    start_export(h, &agent, "csv").await?;
    h.wait_for("#export-progress", SCREEN).await?;
    Ok(agent)
}

/// An export whose body stops coming (a proxy that holds the connection open, silent) is given
/// up on after 30 s without a chunk, and says so: it said "Exporting…" with frozen counts until
/// the operator thought to cancel. Nothing is saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_that_stops_coming_is_given_up() {
    with_harness(options(), async |h: &Harness| {
        // The CSV's header, then nothing for longer than the console waits.
        export_held(h, json!({ "chunk_delay_ms": 120_000 })).await?;
        wait_text(
            h,
            "#export-error",
            "stopped coming",
            Duration::from_secs(45),
        )
        .await?;
        assert_eq!(
            count(h, "#export-cancel").await?,
            0,
            "nothing left to cancel"
        );
        assert_eq!(downloads(&h.downloads_dir())?, Vec::<PathBuf>::new());
        assert_no_crash(h).await
    })
    .await;
}

/// An export whose answer does not begin (a gateway that holds the request, silent) is asked
/// again after 60 s: it said "Exporting…" for good. (The answer held here outlasts the test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_that_does_not_begin_is_asked_again() {
    with_harness(options(), async |h: &Harness| {
        let agent = export_held(h, json!({ "latency_ms": 600_000 })).await?;
        poll_until(
            "the export, asked again",
            Duration::from_secs(90),
            || async { Ok((count(h, "#export-done").await? > 0).then_some(())) },
        )
        .await?;
        let (rows, _) = wait_done(h).await?;
        assert_eq!(rows, api_count(h, &agent).await?);
        assert_no_crash(h).await
    })
    .await;
}

/// An export is a read: refused by the rate limit, or failed by the server, before its body
/// started, it is tried again (after the `Retry-After`), and completes; so is one whose
/// connection was lost after the headers, before the body's first bytes (a server gathering
/// the file once it has answered), where it said "cut short".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_refused_for_now_is_tried_again() {
    with_harness(options(), async |h: &Harness| {
        let agent = agents(h).await?.remove(1);
        sign_in(h).await?;
        let route = "GET /v1/agents/{id}/conversations/export";
        for (why, spec) in [
            ("a 429", json!({ "force_429_retry_after": 1 })),
            ("a 503", json!({ "status": 503 })),
            (
                "a connection lost before the first bytes",
                json!({ "first_chunk_delay_ms": 300, "break_body_after_chunks": 0 }),
            ),
        ] {
            clear_requests(h).await?;
            let mut spec = spec;
            spec["route"] = route.into();
            spec["count"] = 1.into();
            fault(h, spec).await?;
            start_export(h, &agent, "csv").await?;
            let (rows, _) = wait_done(h)
                .await
                .with_context(|| format!("an export after {why}"))?;
            assert_eq!(rows, api_count(h, &agent).await?, "after {why}");
            assert_eq!(
                assert_export_requests_authorized(h, &agent).await?,
                2,
                "{why}, then the export"
            );
        }
        assert_eq!(downloads(&h.downloads_dir())?.len(), 3);

        // Cancelled during a wait: it ends then, not when the wait would have, and the retry
        // the wait was for is not made after it.
        clear_requests(h).await?;
        fault(
            h,
            json!({ "route": route, "force_429_retry_after": 10, "count": 1 }),
        )
        .await?;
        start_export(h, &agent, "csv").await?;
        poll_until("the export refused for the rate limit", SCREEN, || async {
            Ok((assert_export_requests_authorized(h, &agent).await? == 1).then_some(()))
        })
        .await?;
        let refused = Instant::now();
        h.click("#export-cancel").await?;
        poll_until("the export cancelled", Duration::from_secs(2), || async {
            Ok((count(h, "#export-cancelled").await? == 1).then_some(()))
        })
        .await?;
        ensure!(
            refused.elapsed() < Duration::from_secs(8),
            "cancelled after the wait was over"
        );
        // Export pressed again before the wait is over: told what is left of it, not asked.
        h.click("#export-start").await?;
        let said = wait_text(h, "#export-error", "s more, then try again", SCREEN).await?;
        assert_seconds_left(&said, 10)?;
        tokio::time::sleep(Duration::from_secs(12).saturating_sub(refused.elapsed())).await;
        assert_eq!(
            assert_export_requests_authorized(h, &agent).await?,
            1,
            "no retry once the wait is over"
        );
        assert_eq!(downloads(&h.downloads_dir())?.len(), 3, "nothing saved");

        // Refused for longer than the console waits out itself: the operator's to wait. Export
        // pressed again before the end says how long is left, and asks nothing.
        clear_requests(h).await?;
        fault(
            h,
            json!({ "route": route, "force_429_retry_after": 120, "count": 1 }),
        )
        .await?;
        start_export(h, &agent, "csv").await?;
        wait_text(h, "#export-error", "wait 120 s", SCREEN).await?;
        h.click("#export-start").await?;
        let said = wait_text(h, "#export-error", "s more, then try again", SCREEN).await?;
        assert_seconds_left(&said, 120)?;
        // Pressed again, the same words are a change in the page, or a screen reader, which
        // reads only changes, would say nothing of the press.
        let shown = async || -> Result<Value> {
            h.browser()
                .execute(
                    "return document.querySelector('#export-error').textContent;",
                    vec![],
                )
                .await
                .map_err(Into::into)
        };
        let before = shown().await?;
        h.click("#export-start").await?;
        poll_until("the refusal said again", Duration::from_secs(2), || async {
            Ok((shown().await? != before).then_some(()))
        })
        .await?;
        settle(
            "an export asked for, were there one",
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(assert_export_requests_authorized(h, &agent).await?, 1);
        assert_no_crash(h).await?;
        Ok(())
    })
    .await;
}

/// The agent chosen for the export stays chosen when the list's filters change, and the agent
/// filter keeps offering the agents seen under other filters: both selects lost their options
/// as the list emptied to load again, and the export box fell back to its first agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_outlive_a_change_of_filters() {
    with_harness(options(), async |h: &Harness| {
        sign_in(h).await?;
        let options = |css: &'static str| async move {
            Ok::<_, voicebip_e2e::anyhow::Error>(
                h.attrs(&format!("{css} option"), "value")
                    .await?
                    .into_iter()
                    .flatten()
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>(),
            )
        };
        let seen = poll_until("several agents in the export box", SCREEN, || async {
            let o = options("#export-agent").await?;
            Ok((o.len() > 1).then_some(o))
        })
        .await?;
        let chosen = seen.last().cloned().unwrap_or_default();
        h.wait_for("#export-agent", SCREEN)
            .await?
            .select_by_value(&chosen)
            .await?;
        let value = |css: &'static str| async move {
            let v = h
                .browser()
                .execute(
                    &format!("return document.querySelector('{css}').value;"),
                    vec![],
                )
                .await?;
            Ok::<_, voicebip_e2e::anyhow::Error>(v.as_str().unwrap_or_default().to_owned())
        };
        let first = seen[0].clone();
        h.wait_for("#filter-agent", SCREEN)
            .await?
            .select_by_value(&first)
            .await?;
        poll_until("the list of the one agent", SCREEN, || async {
            let q = url_query(h).await?;
            Ok((q.contains(&first) && count(h, ROW).await? > 0).then_some(()))
        })
        .await?;
        h.wait_for("#filter-channel", SCREEN)
            .await?
            .select_by_value("sms")
            .await?;
        poll_until("the list of the agent's SMS", SCREEN, || async {
            let q = url_query(h).await?;
            Ok((q.contains("sms") && count(h, ROW).await? > 0).then_some(()))
        })
        .await?;
        settle("the selects rendered", Duration::from_millis(300)).await;
        assert_eq!(
            value("#export-agent").await?,
            chosen,
            "the export's choice stays"
        );
        let offered = options("#filter-agent").await?;
        assert!(
            seen.iter().all(|a| offered.contains(a)),
            "the agent filter still offers every agent seen: {offered:?}, seen {seen:?}"
        );
        assert_eq!(value("#filter-agent").await?, first);
        assert_no_crash(h).await
    })
    .await;
}

/// The agent the box shows is the agent exported. Here the first page holds one agent only,
/// which the box shows; a later page brings agents that sort before it, and the export was of
/// the first of those, not of the one on screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_is_of_the_agent_the_box_shows() {
    with_harness(options(), async |h: &Harness| {
        let mut all = agents(h).await?;
        all.sort();
        let Some(last) = all.last().cloned() else {
            bail!("no agents");
        };
        bulk(h, &last, 60).await?;
        sign_in(h).await?;
        let options = || async { h.attrs("#export-agent option", "value").await };
        poll_until(
            "the first page's agent in the export box",
            SCREEN,
            || async { Ok((options().await? == [Some(last.clone())]).then_some(())) },
        )
        .await?;
        // The next page, by scrolling to the end of the list.
        h.browser()
            .execute(
                "const s = document.querySelector('.conversation-scroller');
                 s.scrollTop = s.scrollHeight; s.dispatchEvent(new Event('scroll'));",
                vec![],
            )
            .await?;
        poll_until("more agents in the export box", SCREEN, || async {
            Ok((options().await?.len() > 1).then_some(()))
        })
        .await?;
        let on_screen = h
            .browser()
            .execute(
                "return document.getElementById('export-agent').value;",
                vec![],
            )
            .await?;
        assert_eq!(
            on_screen.as_str(),
            Some(last.as_str()),
            "the box still shows it"
        );
        h.click("#export-start").await?;
        wait_done(h).await?;
        assert_eq!(assert_export_requests_authorized(h, &last).await?, 1);
        assert_no_crash(h).await
    })
    .await;
}

/// The export box shows the agent the list is filtered to, until the operator picks another
/// there (`the_agents_outlive_a_change_of_filters`): from a list of one agent's conversations,
/// Export exported the first agent by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_box_follows_the_agent_filter() {
    with_harness(options(), async |h: &Harness| {
        sign_in(h).await?;
        let seen = poll_until("several agents to filter by", SCREEN, || async {
            let o: Vec<String> = h
                .attrs("#filter-agent option", "value")
                .await?
                .into_iter()
                .flatten()
                .filter(|v| !v.is_empty())
                .collect();
            Ok((o.len() > 1).then_some(o))
        })
        .await?;
        let shown = || async {
            let v = h
                .browser()
                .execute(
                    "return document.getElementById('export-agent').value;",
                    vec![],
                )
                .await?;
            Ok::<_, voicebip_e2e::anyhow::Error>(v.as_str().unwrap_or_default().to_owned())
        };
        // Not the agent the box shows first.
        let listed = seen
            .iter()
            .find(|a| **a != seen[0])
            .cloned()
            .unwrap_or_default();
        h.wait_for("#filter-agent", SCREEN)
            .await?
            .select_by_value(&listed)
            .await?;
        poll_until("the listed agent in the export box", SCREEN, || async {
            Ok((shown().await? == listed).then_some(()))
        })
        .await?;
        h.click("#export-start").await?;
        wait_done(h).await?;
        assert_eq!(assert_export_requests_authorized(h, &listed).await?, 1);
        assert_no_crash(h).await
    })
    .await;
}
