//! `bench_browser`: the browser half of `cargo xtask bench`.
//!
//! For each run, the console and the reference page (tests/bench/) each get a fresh world from
//! the end-to-end harness: a simulator with the Large seed serving both (a copy of dist/ with
//! the reference under `/bench/`, and with `--floor` the Leptos floor under `/floor/`), a new
//! Chromium profile, and a teardown that runs whatever the measurement did. In it, the
//! same steps for both: cold load, paging in every conversation, scrolling, opening the
//! 5,000-message thread, prepending an older page, the JS heap, and an SSE burst. The Leptos
//! floor (tests/bench/floor) has only a first screen, so its worlds only load cold. The apps
//! take turns going first. The instruments are tests/bench/probe.js, installed into every document
//! through ChromeDriver's CDP bridge before the page's scripts run.
//!
//! The cold load is one sample a world and moves a lot between samples, so after the full runs
//! come `--cold-runs` more worlds per app that only load cold, again taking turns: its figures
//! are the median of all of them.
//!
//! Writes every run's figures as JSON to `--out` (lists of per-run values, one per metric and
//! app); `cargo xtask bench` takes the medians and prints the table. A run that fails is
//! reported (with a screenshot under `failures/` next to `--out`) and keeps the figures it
//! measured before failing; the other runs still count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::wd::TimeoutConfiguration;
use serde_json::{json, Value};
use voicebip_e2e::anyhow::{self, bail, Context, Result};
use voicebip_e2e::{poll_until, Harness, Options, SeedSize, SimConfig, DEMO_KEY};

const HELP: &str = "\
bench_browser: the console against the reference page (and the Leptos floor) in headless Chromium (cargo xtask bench)

USAGE:
    bench_browser --dist DIR --reference DIR --out FILE [OPTIONS]

    --dist DIR          the built console (trunk's dist/)
    --floor DIR         the built Leptos floor (tests/bench/floor, built with
                        --public-url /floor/): measured too, for its cold load only
    --reference DIR     tests/bench: reference.html, reference.js, probe.js (and the first
                        two's .br/.gz copies, if any, served with them)
    --out FILE          where to write the JSON figures
    --runs N            runs per app [default: 5]; 0 with --cold-runs compares cold loads only
    --cold-runs N       more worlds per app that measure only the cold load [default: 10]
    --burst-rate R      SSE events per second in the burst [default: 200]
    --burst-seconds S   length of the burst [default: 10]
    --apps LIST         which to measure: console,reference,floor [default: console and
                        reference, and floor when --floor is given]
    --burst-text FIELDS the message text's field(s) in burst events: both, body or text
                        [default: both, as the simulator's own message events carry it]
    --api-latency-ms N  delay the cold load's first-page answer by N ms, as an API that is
                        not on loopback would [default: 0]
    --chromium-arg=SW   an extra Chromium switch, for experiments (repeatable), e.g.
                        --chromium-arg=--js-flags=--no-wasm-lazy-compilation
";

struct Args {
    dist: PathBuf,
    floor: Option<PathBuf>,
    reference: PathBuf,
    out: PathBuf,
    runs: usize,
    cold_runs: usize,
    burst_rate: f64,
    burst_seconds: f64,
    apps: Vec<App>,
    /// Payload keys that carry the message text.
    burst_text: Vec<&'static str>,
    chromium_args: Vec<String>,
    api_latency_ms: u64,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>> {
    let mut dist = None;
    let mut floor = None;
    let mut reference = None;
    let mut out = None;
    let mut runs = 5;
    let mut cold_runs = 10;
    let mut burst_rate = 200.0;
    let mut burst_seconds = 10.0;
    let mut apps = None;
    let mut burst_text = vec!["body", "text"];
    let mut chromium_args = Vec::new();
    let mut api_latency_ms = 0;
    while let Some(arg) = args.next() {
        // `--chromium-arg=--switch`: the value starts with dashes, so it is attached.
        if let Some(switch) = arg.strip_prefix("--chromium-arg=") {
            chromium_args.push(switch.to_string());
            continue;
        }
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--dist" => dist = Some(PathBuf::from(value()?)),
            "--floor" => floor = Some(PathBuf::from(value()?)),
            "--reference" => reference = Some(PathBuf::from(value()?)),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--runs" => runs = value()?.parse().context("--runs wants a number")?,
            "--cold-runs" => cold_runs = value()?.parse().context("--cold-runs wants a number")?,
            "--burst-rate" => {
                burst_rate = value()?.parse().context("--burst-rate wants a number")?
            }
            "--burst-seconds" => {
                burst_seconds = value()?.parse().context("--burst-seconds wants a number")?
            }
            "--apps" => {
                apps = Some(
                    value()?
                        .split(',')
                        .map(|name| match name.trim() {
                            "console" => Ok(App::Console),
                            "reference" => Ok(App::Reference),
                            "floor" => Ok(App::Floor),
                            other => Err(anyhow::anyhow!("--apps: unknown app {other:?}")),
                        })
                        .collect::<Result<Vec<_>>>()?,
                )
            }
            "--api-latency-ms" => {
                api_latency_ms = value()?
                    .parse()
                    .context("--api-latency-ms wants a number")?
            }
            "--burst-text" => {
                burst_text = match value()?.as_str() {
                    "both" => vec!["body", "text"],
                    "body" => vec!["body"],
                    "text" => vec!["text"],
                    other => bail!("--burst-text wants both, body or text, not {other:?}"),
                }
            }
            other => bail!("unknown argument {other:?} (see --help)"),
        }
    }
    if runs + cold_runs == 0 || burst_rate <= 0.0 || burst_seconds <= 0.0 {
        bail!("there must be a run or a cold run, and --burst-rate and --burst-seconds must be positive");
    }
    let apps = apps.unwrap_or_else(|| {
        let mut all = vec![App::Console, App::Reference];
        all.extend(floor.is_some().then_some(App::Floor));
        all
    });
    if apps.contains(&App::Floor) && floor.is_none() {
        bail!("measuring the floor needs --floor DIR");
    }
    Ok(Some(Args {
        dist: dist.context("--dist is required")?,
        floor,
        reference: reference.context("--reference is required")?,
        out: out.context("--out is required")?,
        runs,
        cold_runs,
        burst_rate,
        burst_seconds,
        apps,
        burst_text,
        chromium_args,
        api_latency_ms,
    }))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum App {
    Console,
    Reference,
    /// tests/bench/floor: the reference's first screen in a minimal Leptos app. It only loads.
    Floor,
}

impl App {
    fn name(self) -> &'static str {
        match self {
            App::Console => "console",
            App::Reference => "reference",
            App::Floor => "floor",
        }
    }

    /// Where the inbox is.
    fn entry(self) -> &'static str {
        match self {
            App::Console => "/conversations",
            App::Reference => "/bench/reference.html",
            // Where `cargo xtask bench` builds it to be served (xtask/src/dist.rs, FLOOR_URL).
            App::Floor => "/floor/",
        }
    }

    /// What this app is measured on: the floor has only a first screen.
    fn scope(self, asked: Scope) -> Scope {
        match self {
            App::Floor => Scope::Cold,
            App::Console | App::Reference => asked,
        }
    }

    /// A link that opens conversation `id` in place (both apps route link clicks themselves).
    fn thread_href(self, id: &str) -> String {
        match self {
            App::Console => format!("/conversations/{id}"),
            App::Reference => format!("/bench/reference.html?c={id}"),
            App::Floor => unreachable!("the Leptos floor only loads cold, so opens no thread {id}"),
        }
    }
}

/// Messages per page in both apps; the thread opens with one page and prepends one more.
const MESSAGE_PAGE: u64 = 50;
/// Scrolling: 3 s at 60 Hz, 3 rows per frame (a brisk flick through the list).
const SCROLL_FRAMES: u64 = 180;
const SCROLL_STEP_PX: u64 = 216;
/// After the burst, the page may catch up for this long; a message not painted by then counts
/// as lost. Waiting stops early once nothing new was painted for `BURST_STALL`. Shorter than
/// ChromeDriver's 60 s wait for a busy renderer, after which the session would be useless.
const BURST_DRAIN: Duration = Duration::from_secs(30);
const BURST_STALL: Duration = Duration::from_secs(3);
/// A whole world (one app, one run); beyond it the harness tears everything down.
const WORLD_TIMEOUT: Duration = Duration::from_secs(240);
/// The slowest in-page step (paging in 10,000 conversations) must finish within this.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(150);

/// The files every world serves and injects.
struct Files {
    /// dist/ plus `bench/` with the reference (and `floor/` with the floor): one origin serves
    /// every app.
    site: tempfile::TempDir,
    probe: String,
}

impl Files {
    fn prepare(dist: &Path, reference: &Path, floor: Option<&Path>) -> Result<Self> {
        if !dist.join("index.html").is_file() {
            bail!("no built console in {}", dist.display());
        }
        let site = tempfile::Builder::new()
            .prefix("voicebip-bench-site-")
            .tempdir()
            .context("creating the site directory")?;
        copy_dir(dist, site.path())?;
        if let Some(floor) = floor {
            if !floor.join("index.html").is_file() {
                bail!("no built floor in {}", floor.display());
            }
            copy_dir(floor, &site.path().join("floor"))?;
        }
        let bench = site.path().join("bench");
        std::fs::create_dir_all(&bench)?;
        for name in ["reference.html", "reference.js"] {
            std::fs::copy(reference.join(name), bench.join(name))
                .with_context(|| format!("copying {}", reference.join(name).display()))?;
            // Its compressed copies, when `cargo xtask bench` wrote them, served as the console's.
            for (suffix, _) in voicebip_sim::PRECOMPRESSED {
                let copy = format!("{name}{suffix}");
                if reference.join(&copy).is_file() {
                    std::fs::copy(reference.join(&copy), bench.join(&copy))
                        .with_context(|| format!("copying {}", reference.join(&copy).display()))?;
                }
            }
        }
        std::fs::write(
            bench.join("blank.html"),
            "<!DOCTYPE html><title>blank</title>",
        )?;
        let probe = std::fs::read_to_string(reference.join("probe.js"))
            .with_context(|| format!("reading {}", reference.join("probe.js").display()))?;
        Ok(Self { site, probe })
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Runs `window.__bench.<call>` in the page and returns what its promise resolves to.
async fn probe(h: &Harness, call: &str, args: Vec<Value>) -> Result<Value> {
    h.browser()
        .execute(&format!("return window.__bench.{call};"), args)
        .await
        .with_context(|| format!("running __bench.{call} in the page"))
}

/// Nearest-rank percentile of unsorted samples.
fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// The figures of one world, by metric name.
type Figures = BTreeMap<&'static str, f64>;

struct World<'a> {
    h: &'a Harness,
    app: App,
    run: usize,
    figures: Figures,
}

impl World<'_> {
    fn put(&mut self, name: &'static str, value: Option<f64>) {
        if let Some(v) = value.filter(|v| v.is_finite()) {
            self.figures.insert(name, v);
        }
    }

    fn say(&self, what: &str) {
        println!("bench: run {} {}: {what}", self.run + 1, self.app.name());
    }
}

struct Sim {
    big_thread_id: String,
    conversations: u64,
}

async fn sim_info(h: &Harness) -> Result<Sim> {
    let info = h.sim_get("/sim/info").await?;
    Ok(Sim {
        big_thread_id: info["big_thread_id"]
            .as_str()
            .context("/sim/info has no big_thread_id: is the Large seed on?")?
            .to_string(),
        conversations: info["conversations"]
            .as_u64()
            .context("/sim/info has no conversation count")?,
    })
}

/// What a world measures.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scope {
    /// Every scenario, starting with the cold load.
    Full,
    /// The cold load alone.
    Cold,
}

/// The instruments and the session, in every document the world opens.
async fn instrument(h: &Harness, files: &Files) -> Result<()> {
    let config = json!({ "key": DEMO_KEY, "base": format!("{}/v1", h.base_url()) });
    let source = format!("window.__benchConfig = {config};\n{}", files.probe);
    h.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": source }),
    )
    .await?;
    h.browser()
        .update_timeouts(TimeoutConfiguration::new(
            Some(SCRIPT_TIMEOUT),
            Some(Duration::from_secs(60)),
            None,
        ))
        .await
        .context("setting the script timeout")?;
    Ok(())
}

async fn measure(w: &mut World<'_>, files: &Files, args: &Args, scope: Scope) -> Result<()> {
    let h = w.h;
    instrument(h, files).await?;
    cold_load(w, args).await?;
    if scope == Scope::Cold {
        return Ok(());
    }
    rest(w, args).await
}

async fn cold_load(w: &mut World<'_>, args: &Args) -> Result<()> {
    let h = w.h;
    // Cold load. The blank page on the same origin starts the renderer, so what is timed is
    // the app's own cost: an empty cache (fresh profile), nothing compiled yet.
    h.open("/bench/blank.html").await?;
    if args.api_latency_ms > 0 {
        let slow = json!({ "route": "GET /v1/conversations", "latency_ms": args.api_latency_ms, "count": 1 });
        h.sim_post("/sim/faults", &slow).await?;
    }
    h.open(w.app.entry()).await?;
    let first_row = poll_until("the first conversation row", SCRIPT_TIMEOUT, || async {
        let v = h
            .browser()
            .execute("return window.__bench && window.__bench.firstRow;", vec![])
            .await?;
        Ok(v.as_f64())
    })
    .await?;
    w.put("cold_load_ms", Some(first_row));
    let cold = h
        .browser()
        .execute("return window.__bench.cold;", vec![])
        .await
        .context("reading the cold load's breakdown")?;
    let at = |key: &str| cold[key].as_f64();
    w.put("cold_dom_parsed_ms", at("domParsed"));
    w.put("cold_wasm_loaded_ms", at("wasmLoaded"));
    w.put("cold_app_started_ms", at("appStarted"));
    w.put("cold_config_answered_ms", at("configAnswered"));
    w.put("cold_list_requested_ms", at("listRequested"));
    w.put("cold_list_answered_ms", at("listAnswered"));
    // The app's own first render, without the download and compile before it: between builds
    // it moves far less than the whole cold load (tests/bench/FINDINGS.md, "Comparing two
    // builds").
    w.put(
        "cold_start_to_row_ms",
        at("appStarted").map(|started| first_row - started),
    );
    let ms = |key: &str| at(key).map_or("-".to_string(), |v| format!("{v:.0}"));
    w.say(&format!(
        "first row painted {first_row:.0} ms after navigation (wasm loaded {}, app started {}, \
         config.json answered {}, first page asked for {}, answered {})",
        ms("wasmLoaded"),
        ms("appStarted"),
        ms("configAnswered"),
        ms("listRequested"),
        ms("listAnswered"),
    ));
    Ok(())
}

/// Everything after the cold load, in the page it left open.
async fn rest(w: &mut World<'_>, args: &Args) -> Result<()> {
    let h = w.h;
    let sim = sim_info(h).await?;

    // Every conversation, paged in by infinite scroll.
    let page_in = probe(
        h,
        "pageIn(arguments[0], arguments[1])",
        vec![
            json!(sim.conversations),
            json!(SCRIPT_TIMEOUT.as_millis() as u64 - 10_000),
        ],
    )
    .await?;
    if page_in["ms"].is_null() {
        bail!(
            "paging in stopped at {} of {} conversations",
            page_in["loaded"],
            sim.conversations
        );
    }
    w.put("page_in_ms", page_in["ms"].as_f64());
    w.put("page_in_nudges", page_in["nudges"].as_f64());
    w.say(&format!(
        "{} conversations paged in, {:.0} ms, {} rows in the DOM at most",
        page_in["loaded"],
        page_in["ms"].as_f64().unwrap_or(0.0),
        page_in["rowsMax"]
    ));

    let scroll = probe(
        h,
        "scroll(arguments[0], arguments[1])",
        vec![json!(SCROLL_FRAMES), json!(SCROLL_STEP_PX)],
    )
    .await?;
    let busy = numbers(&scroll["busy"]);
    let intervals = numbers(&scroll["intervals"]);
    let rows_max = page_in["rowsMax"]
        .as_f64()
        .unwrap_or(0.0)
        .max(scroll["rowsMax"].as_f64().unwrap_or(0.0));
    w.put("rows_in_dom_max", Some(rows_max));
    w.put("frame_work_p95_ms", percentile(&busy, 95.0));
    w.put("frame_interval_p95_ms", percentile(&intervals, 95.0));
    let long = intervals
        .iter()
        .filter(|&&i| i > 1.5 * 1000.0 / 60.0)
        .count();
    w.put(
        "frames_dropped_pct",
        (!intervals.is_empty()).then(|| 100.0 * long as f64 / intervals.len() as f64),
    );
    w.say(&format!(
        "scrolling: frame work p95 {:.1} ms, frame interval p95 {:.1} ms",
        percentile(&busy, 95.0).unwrap_or(f64::NAN),
        percentile(&intervals, 95.0).unwrap_or(f64::NAN)
    ));

    // The 5,000-message thread, opened beside the list, and one older page prepended.
    let open = probe(
        h,
        "openThread(arguments[0], arguments[1], arguments[2])",
        vec![
            json!(w.app.thread_href(&sim.big_thread_id)),
            json!(MESSAGE_PAGE),
            json!(30_000),
        ],
    )
    .await?;
    let open_ms = open["ms"]
        .as_f64()
        .with_context(|| format!("the thread did not open: {open}"))?;
    w.put("thread_open_ms", Some(open_ms));
    let prepend = probe(
        h,
        "prepend(arguments[0], arguments[1])",
        vec![json!(MESSAGE_PAGE), json!(30_000)],
    )
    .await?;
    let prepend_ms = prepend["ms"]
        .as_f64()
        .with_context(|| format!("no older page was prepended: {prepend}"))?;
    w.put("thread_prepend_ms", Some(prepend_ms));
    w.say(&format!(
        "thread opened in {open_ms:.0} ms, older page prepended in {prepend_ms:.0} ms"
    ));

    heap(w, "after_list_thread").await?;
    if burst(w, &sim, args).await? == Responsive::Yes {
        heap(w, "after_burst").await?;
    }
    Ok(())
}

/// The page's memory after a full garbage collection: V8's heap, and the ArrayBuffer backing
/// stores (where the console's wasm memory lives, outside the JS heap).
async fn heap(w: &mut World<'_>, when: &'static str) -> Result<()> {
    let h = w.h;
    h.cdp("HeapProfiler.collectGarbage", json!({})).await?;
    let usage = h.cdp("Runtime.getHeapUsage", json!({})).await?;
    let mb = |v: &Value| v.as_f64().map(|b| b / 1_048_576.0);
    let js = mb(&usage["usedSize"]);
    let buffers = mb(&usage["backingStorageSize"]);
    let wasm = mb(&probe(h, "wasmBytes()", vec![]).await?);
    let (js_key, buffers_key, wasm_key, total_key) = match when {
        "after_list_thread" => (
            "heap_js_mb",
            "heap_buffers_mb",
            "wasm_memory_mb",
            "heap_total_mb",
        ),
        _ => (
            "heap_js_after_burst_mb",
            "heap_buffers_after_burst_mb",
            "wasm_memory_after_burst_mb",
            "heap_total_after_burst_mb",
        ),
    };
    // backingStorageSize leaves out wasm memories (Chromium 156): added separately.
    let total = js.zip(buffers).map(|(j, b)| j + b + wasm.unwrap_or(0.0));
    w.put(js_key, js);
    w.put(buffers_key, buffers);
    w.put(wasm_key, wasm);
    w.put(total_key, total);
    w.say(&format!(
        "heap {when}: JS {:.1} MiB, array buffers {:.1} MiB, wasm memory {:.1} MiB",
        js.unwrap_or(f64::NAN),
        buffers.unwrap_or(f64::NAN),
        wasm.unwrap_or(0.0)
    ));
    Ok(())
}

/// Publishes `rate` messages per second for `seconds` into the open thread through the
/// simulator's control endpoint, each body carrying its sequence number and publish time, and
/// reads back from the page when each was painted.
/// Whether the page still answers after the burst.
#[derive(PartialEq, Eq)]
enum Responsive {
    Yes,
    No,
}

/// Waits until the page painted every published message, made no progress for
/// `BURST_STALL`, or `BURST_DRAIN` passed; then reads what it saw.
async fn drain(h: &Harness, published: u64) -> Result<(Option<f64>, Value)> {
    let (mut last_seen, mut last_progress) = (0, Instant::now());
    while last_progress.elapsed() < BURST_STALL {
        let seen = probe(h, "burstSeen()", vec![]).await?.as_u64().unwrap_or(0);
        if seen >= published {
            break;
        }
        if seen > last_seen {
            (last_seen, last_progress) = (seen, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let in_dom = probe(h, "burstInDom()", vec![]).await?.as_f64();
    Ok((in_dom, probe(h, "burstCollect()", vec![]).await?))
}

/// How late a burst event never painted counts in the burst's percentiles: as late as the
/// drain waits (left out, a page that lost its slowest events looked faster than one that
/// showed them).
fn drain_limit_ms() -> f64 {
    BURST_DRAIN.as_millis() as f64
}

async fn burst(w: &mut World<'_>, sim: &Sim, args: &Args) -> Result<Responsive> {
    let h = w.h;
    let total = (args.burst_rate * args.burst_seconds).round() as u64;
    h.wait_for(
        "#connection-status[data-state=live]",
        Duration::from_secs(30),
    )
    .await
    .context("the thread's stream never went live")?;
    let conversation = h
        .api_get(
            &format!("/conversations/{}?page_size=1", sim.big_thread_id),
            DEMO_KEY,
        )
        .await?;
    probe(h, "burstArm()", vec![]).await?;

    let path = format!("/sim/conversations/{}/events", sim.big_thread_id);
    let mut published = 0u64;
    let mut reached_nobody = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    let started = Instant::now();
    while published < total {
        tick.tick().await;
        let due = ((started.elapsed().as_secs_f64() * args.burst_rate) as u64).min(total);
        while published < due {
            let seq = published;
            let body = format!("bench-burst #{seq} @{};", unix_ms());
            // The shape of the simulator's own `message.received` payloads.
            let mut payload = json!({
                "message_id": format!("msg_bench_{}_{}_{seq}", w.run, w.app.name()),
                "conversation_id": sim.big_thread_id,
                "direction": "inbound",
                "channel": conversation["channel"],
                "message_type": "text",
                "status": "received",
                "from_number": conversation["from_number"],
                "to_number": conversation["to_number"],
                "error_code": null,
            });
            for key in &args.burst_text {
                payload[*key] = json!(body);
            }
            let event = json!({ "event_type": "message.received", "payload": payload });
            let answer = h.sim_post(&path, &event).await?;
            if answer["delivered_to"].as_u64() == Some(0) {
                reached_nobody += 1;
            }
            published += 1;
        }
    }
    let publishing = started.elapsed().as_secs_f64();

    w.put("burst_published", Some(published as f64));
    w.put("burst_rate_achieved", Some(published as f64 / publishing));
    w.put("burst_not_delivered_by_sim", Some(reached_nobody as f64));
    // A page that cannot keep up stops answering WebDriver too: past the drain window it is
    // given up on, and everything it had not shown counts as lost.
    let Ok(drained) = tokio::time::timeout(BURST_DRAIN, drain(h, published)).await else {
        w.put("burst_lost", Some(published as f64));
        for q in [
            "burst_p50_ms",
            "burst_p95_ms",
            "burst_p99_ms",
            "burst_max_ms",
        ] {
            w.put(q, Some(drain_limit_ms()));
        }
        w.put("burst_page_unresponsive", Some(1.0));
        w.say(&format!(
            "burst: {published} published in {publishing:.1} s; the page stopped answering \
             (busy for over {BURST_DRAIN:?}): all counted as lost"
        ));
        return Ok(Responsive::No);
    };
    let (in_dom, seen) = drained?;
    let latencies: Vec<f64> = seen
        .as_array()
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|p| p.get(1).and_then(Value::as_f64))
                .collect()
        })
        .unwrap_or_default();
    let lost = published.saturating_sub(latencies.len() as u64);
    let mut latencies = latencies;
    latencies.extend(std::iter::repeat_n(drain_limit_ms(), lost as usize));
    w.put("burst_in_dom_after", in_dom);
    w.put("burst_lost", Some(lost as f64));
    w.put("burst_page_unresponsive", Some(0.0));
    w.put("burst_p50_ms", percentile(&latencies, 50.0));
    w.put("burst_p95_ms", percentile(&latencies, 95.0));
    w.put("burst_p99_ms", percentile(&latencies, 99.0));
    w.put("burst_max_ms", latencies.iter().copied().reduce(f64::max));
    let p = |q| percentile(&latencies, q).unwrap_or(f64::NAN);
    w.say(&format!(
        "burst: {published} published in {publishing:.1} s, {lost} lost ({} in the DOM after), \
         event-to-paint p50 {:.0} / p95 {:.0} / p99 {:.0} ms",
        in_dom.unwrap_or(0.0),
        p(50.0),
        p(95.0),
        p(99.0),
    ));
    Ok(Responsive::Yes)
}

/// One app, one run, in a world of its own: a harness started and shut down here, whatever the
/// measurement did. The figures measured before a failure are kept; the failure is returned
/// beside them.
async fn world(
    app: App,
    run: usize,
    scope: Scope,
    files: &Files,
    args: &Args,
) -> (Figures, Option<String>) {
    let options = Options {
        sim: SimConfig {
            size: SeedSize::Large,
            dist_dir: Some(files.site.path().to_path_buf()),
            // Paging in 10,000 conversations is 200 requests a run: no budget in the way.
            rate_limit_per_minute: u32::MAX,
            traffic_per_minute: 0.0,
            ..SimConfig::default()
        },
        test_timeout: WORLD_TIMEOUT,
        chromium_args: args.chromium_args.clone(),
    };
    let h = match Harness::start(options).await {
        Ok(h) => h,
        Err(e) => return (Figures::new(), Some(format!("starting the harness: {e:#}"))),
    };
    let mut w = World {
        h: &h,
        app,
        run,
        figures: Figures::new(),
    };
    let failure =
        match tokio::time::timeout(WORLD_TIMEOUT, measure(&mut w, files, args, scope)).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{e:#}")),
            Err(_) => Some(format!("did not finish within {WORLD_TIMEOUT:?}")),
        };
    let figures = w.figures;
    if let Some(reason) = &failure {
        save_failure(&h, &args.out, app, run, reason).await;
    }
    h.shutdown().await;
    (figures, failure)
}

/// A screenshot, the DOM and the browser log of a failed run, next to the figures: each step
/// bounded, since the browser may be what broke.
async fn save_failure(h: &Harness, out: &Path, app: App, run: usize, reason: &str) {
    let dir = out
        .parent()
        .unwrap_or(Path::new("."))
        .join("failures")
        .join(format!("run{}_{}", run + 1, app.name()));
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let _ = std::fs::write(dir.join("failure.txt"), reason);
    let step = Duration::from_secs(10);
    if let Ok(Ok(png)) = tokio::time::timeout(step, h.browser().screenshot()).await {
        let _ = std::fs::write(dir.join("screenshot.png"), png);
    }
    if let Ok(Ok(html)) = tokio::time::timeout(step, h.browser().source()).await {
        let _ = std::fs::write(dir.join("page.html"), html);
    }
    if let Ok(Ok(log)) = tokio::time::timeout(step, h.browser_log()).await {
        let lines: Vec<String> = log
            .iter()
            .map(|e| format!("{} {} {}", e.timestamp, e.level, e.message))
            .collect();
        let _ = std::fs::write(dir.join("browser-console.log"), lines.join("\n"));
    }
    eprintln!(
        "bench: screenshot, DOM and log of the failure in {}",
        dir.display()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench_browser: {e:#}");
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_browser: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The order of the apps in run `run`: taking turns, so that no app always runs first (on a
/// machine the others have warmed up) or always after the same one.
fn turn(run: usize) -> [App; 3] {
    let mut order = [App::Console, App::Reference, App::Floor];
    order.rotate_left(run / 2 % 3);
    if run % 2 == 1 {
        order.reverse();
    }
    order
}

async fn run(args: &Args) -> Result<()> {
    let files = Files::prepare(&args.dist, &args.reference, args.floor.as_deref())?;
    let started = Instant::now();
    let mut results: BTreeMap<&'static str, BTreeMap<&'static str, Vec<f64>>> = BTreeMap::new();
    let mut errors = Vec::new();
    let worlds = (0..args.runs)
        .map(|run| (run, Scope::Full))
        .chain((args.runs..args.runs + args.cold_runs).map(|run| (run, Scope::Cold)));
    for (run, scope) in worlds {
        for app in turn(run).into_iter().filter(|a| args.apps.contains(a)) {
            let (figures, failure) = world(app, run, app.scope(scope), &files, args).await;
            let per_app = results.entry(app.name()).or_default();
            for (name, value) in figures {
                per_app.entry(name).or_default().push(value);
            }
            if let Some(e) = failure {
                let line = format!("run {} {}: {e}", run + 1, app.name());
                eprintln!("bench: {line}");
                errors.push(line);
            }
        }
    }
    let report = json!({
        "runs": args.runs,
        "cold_runs": args.cold_runs,
        "burst": { "rate": args.burst_rate, "seconds": args.burst_seconds },
        "scroll": { "frames": SCROLL_FRAMES, "step_px": SCROLL_STEP_PX },
        "chromium_args": args.chromium_args,
        "api_latency_ms": args.api_latency_ms,
        "seconds": started.elapsed().as_secs_f64(),
        "apps": results,
        "errors": errors,
    });
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "bench: {} run(s) and {} cold-load run(s) in {:.0} s, {} failed; figures in {}",
        args.runs,
        args.cold_runs,
        started.elapsed().as_secs_f64(),
        errors.len(),
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Option<Args>> {
        parse_args(line.split_whitespace().map(String::from))
    }

    #[test]
    fn the_floor_is_measured_when_built_and_only_then() {
        let apps = |line: &str| parse(line).expect("valid").expect("not --help").apps;
        assert_eq!(
            apps("--dist d --reference r --out o"),
            [App::Console, App::Reference]
        );
        assert_eq!(
            apps("--dist d --reference r --out o --floor f"),
            [App::Console, App::Reference, App::Floor]
        );
        assert_eq!(
            apps("--dist d --reference r --out o --floor f --apps floor,console"),
            [App::Floor, App::Console]
        );
        assert!(parse("--dist d --reference r --out o --apps floor").is_err());
        // It has a first screen and nothing else to measure.
        assert_eq!(App::Floor.scope(Scope::Full), Scope::Cold);
        assert_eq!(App::Console.scope(Scope::Full), Scope::Full);
    }

    #[test]
    fn every_app_goes_first_in_turn() {
        let firsts: Vec<App> = (0..6).map(|run| turn(run)[0]).collect();
        for app in [App::Console, App::Reference, App::Floor] {
            assert_eq!(firsts.iter().filter(|a| **a == app).count(), 2, "{app:?}");
        }
        // Two apps alone each go first in half of every four runs (not strictly in turn).
        let console_first = (0..4)
            .filter(|&run| turn(run).into_iter().find(|a| *a != App::Floor) == Some(App::Console))
            .count();
        assert_eq!(console_first, 2);
    }

    #[test]
    fn api_latency_is_a_number_of_milliseconds() {
        let args = parse("--dist d --reference r --out o --api-latency-ms 100")
            .expect("valid")
            .expect("not --help");
        assert_eq!(args.api_latency_ms, 100);
        assert!(parse("--dist d --reference r --out o --api-latency-ms soon").is_err());
    }

    #[test]
    fn cold_runs_default_to_ten_and_may_be_none() {
        let count = |line: &str| parse(line).expect("valid").expect("not --help").cold_runs;
        assert_eq!(count("--dist d --reference r --out o"), 10);
        assert_eq!(count("--dist d --reference r --out o --cold-runs 0"), 0);
        assert_eq!(count("--dist d --reference r --out o --cold-runs 25"), 25);
        assert!(parse("--dist d --reference r --out o --cold-runs many").is_err());
        // Cold loads alone (to compare two builds quickly), but never nothing at all.
        let cold_only = parse("--dist d --reference r --out o --runs 0 --cold-runs 7")
            .expect("valid")
            .expect("not --help");
        assert_eq!((cold_only.runs, cold_only.cold_runs), (0, 7));
        assert!(parse("--dist d --reference r --out o --runs 0 --cold-runs 0").is_err());
    }

    #[test]
    fn chromium_switches_are_attached_and_kept_in_order() {
        let args = parse(
            "--dist d --chromium-arg=--js-flags=--no-wasm-lazy-compilation --reference r \
             --chromium-arg=--disable-features=X --out o",
        )
        .expect("valid")
        .expect("not --help");
        assert_eq!(
            args.chromium_args,
            [
                "--js-flags=--no-wasm-lazy-compilation",
                "--disable-features=X"
            ]
        );
        assert_eq!(args.out, PathBuf::from("o"));
        let plain = parse("--dist d --reference r --out o")
            .expect("valid")
            .expect("not --help");
        assert!(plain.chromium_args.is_empty());
        assert_eq!(plain.api_latency_ms, 0, "loopback unless asked");
        // Detached, the switch would be taken for an option of bench_browser's own.
        assert!(parse("--dist d --reference r --out o --chromium-arg --x").is_err());
    }
}
