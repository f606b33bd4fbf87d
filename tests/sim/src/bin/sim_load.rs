//! `sim-load`: a load check of the simulator's stream fan-out.
//!
//! Starts a simulator in-process, opens N stream subscribers over real HTTP (spread over C
//! conversations), publishes events at R per second for D seconds, and reports delivered vs
//! expected frames and the publish-to-receive latency (p50/p99/max), then one JSON line for
//! machines. Exit status 1 when frames were lost.

use futures_util::StreamExt;
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use voicebip_sim::{SeedSize, SimConfig, DEMO_KEY};

const HELP: &str = "\
sim-load: stream fan-out load check for the Voicebip simulator

USAGE:
    sim-load [OPTIONS]

OPTIONS:
    --subscribers <N>     Stream subscribers [default: 1000]
    --conversations <C>   Conversations the subscribers are spread over [default: 1]
    --rate <R>            Events published per second, in total [default: 500]
    --seconds <D>         Publishing time [default: 10]
    --large               Use the Large seed (10,000 conversations)
    -h, --help            Print this help
";

struct Options {
    subscribers: usize,
    conversations: usize,
    rate: f64,
    seconds: f64,
    large: bool,
}

fn parse_args() -> Result<Option<Options>, String> {
    let mut o = Options {
        subscribers: 1000,
        conversations: 1,
        rate: 500.0,
        seconds: 10.0,
        large: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let bad = |v: &str| format!("invalid value for {name}: {v:?}");
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--subscribers" => {
                let v = value()?;
                o.subscribers = v.parse().map_err(|_| bad(&v))?;
            }
            "--conversations" => {
                let v = value()?;
                o.conversations = v.parse().map_err(|_| bad(&v))?;
            }
            "--rate" => {
                let v = value()?;
                o.rate = v.parse().map_err(|_| bad(&v))?;
            }
            "--seconds" => {
                let v = value()?;
                o.seconds = v.parse().map_err(|_| bad(&v))?;
            }
            "--large" => o.large = true,
            other => return Err(format!("unknown option {other:?} (see --help)")),
        }
    }
    if o.conversations == 0 || o.rate <= 0.0 || o.seconds <= 0.0 {
        return Err("--conversations, --rate and --seconds must be positive".into());
    }
    Ok(Some(o))
}

/// What the subscribers saw: frame count and latencies in microseconds.
#[derive(Default)]
struct Seen {
    delivered: AtomicU64,
    latencies_us: Mutex<Vec<u32>>,
}

/// Reads one stream, timing every load frame by the `sent_ns` its payload carries.
async fn subscribe(response: reqwest::Response, base: Instant, seen: Arc<Seen>) {
    const MARKER: &str = "\"sent_ns\":";
    let mut body = response.bytes_stream();
    let mut pending = String::new();
    let mut latencies = Vec::new();
    while let Some(Ok(chunk)) = body.next().await {
        let now = base.elapsed().as_nanos() as u64;
        pending.push_str(&String::from_utf8_lossy(&chunk));
        // Only whole frames; a frame split across chunks waits for its end.
        let Some(end) = pending.rfind("\n\n") else {
            continue;
        };
        let mut count = 0;
        for (at, _) in pending[..end].match_indices(MARKER) {
            let digits: String = pending[at + MARKER.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(sent) = digits.parse::<u64>() {
                latencies.push((now.saturating_sub(sent) / 1_000).min(u64::from(u32::MAX)) as u32);
                count += 1;
            }
        }
        pending.drain(..end + 2);
        seen.delivered.fetch_add(count, Ordering::Relaxed);
        if latencies.len() >= 4096 {
            seen.latencies_us
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .append(&mut latencies);
        }
    }
    seen.latencies_us
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .append(&mut latencies);
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    f64::from(sorted[rank.min(sorted.len() - 1)]) / 1000.0
}

async fn conversation_ids(
    http: &reqwest::Client,
    base_url: &str,
    n: usize,
) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    while ids.len() < n {
        let mut url = format!("{base_url}/v1/conversations?page_size=100");
        if let Some(t) = &token {
            url.push_str(&format!("&page_token={t}"));
        }
        let page: Value = http
            .get(&url)
            .bearer_auth(DEMO_KEY)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let items = page["conversations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        ids.extend(
            items
                .iter()
                .filter_map(|i| i["conversation_id"].as_str().map(str::to_string)),
        );
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    ids.truncate(n);
    if ids.len() < n {
        return Err(format!("only {} conversations available", ids.len()));
    }
    Ok(ids)
}

async fn run(o: Options) -> Result<bool, String> {
    let config = SimConfig {
        size: if o.large {
            SeedSize::Large
        } else {
            SeedSize::Demo
        },
        // The load is the streams: no request budget in the way.
        rate_limit_per_minute: u32::MAX,
        ..SimConfig::default()
    };
    let sim = voicebip_sim::start(config, "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?)
        .await
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let base_url = sim.base_url();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| e.to_string())?;
    let ids = conversation_ids(&http, &base_url, o.conversations).await?;

    let base = Instant::now();
    let seen = Arc::new(Seen::default());
    let connect_started = Instant::now();
    let mut readers = Vec::with_capacity(o.subscribers);
    // Connect in waves so the listen backlog never overflows.
    for wave in (0..o.subscribers).collect::<Vec<_>>().chunks(100) {
        let opening = wave.iter().map(|i| {
            let url = format!(
                "{base_url}/v1/conversations/{}/stream?token={DEMO_KEY}",
                ids[i % ids.len()]
            );
            http.get(url).send()
        });
        for response in futures_util::future::join_all(opening).await {
            let response =
                response.map_err(|e| format!("stream connect failed: {e} (raise `ulimit -n`?)"))?;
            if !response.status().is_success() {
                return Err(format!("stream answered {}", response.status()));
            }
            readers.push(tokio::spawn(subscribe(response, base, seen.clone())));
        }
    }
    let connected: usize = ids.iter().map(|id| sim.subscriber_count(id)).sum();
    let connect_secs = connect_started.elapsed().as_secs_f64();
    println!(
        "{connected} subscribers on {} conversation(s), connected in {connect_secs:.2} s",
        ids.len()
    );

    let mut expected: u64 = 0;
    let mut published: u64 = 0;
    let publish_started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    while publish_started.elapsed().as_secs_f64() < o.seconds {
        tick.tick().await;
        let due = (publish_started.elapsed().as_secs_f64().min(o.seconds) * o.rate) as u64;
        while published < due {
            let id = &ids[published as usize % ids.len()];
            let sent_ns = base.elapsed().as_nanos() as u64;
            let payload = json!({ "seq": published, "sent_ns": sent_ns });
            expected += sim.publish_event(id, "load.test", payload) as u64;
            published += 1;
        }
    }
    let publish_secs = publish_started.elapsed().as_secs_f64();

    // Let in-flight frames arrive.
    let drain_deadline = Instant::now() + Duration::from_secs(5);
    while seen.delivered.load(Ordering::Relaxed) < expected && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered = seen.delivered.load(Ordering::Relaxed);
    sim.shutdown().await;
    for reader in readers {
        let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
    }

    let mut latencies =
        std::mem::take(&mut *seen.latencies_us.lock().unwrap_or_else(|e| e.into_inner()));
    latencies.sort_unstable();
    let (p50, p99) = (percentile(&latencies, 50.0), percentile(&latencies, 99.0));
    let max = latencies.last().map_or(0.0, |v| f64::from(*v) / 1000.0);
    let ok = delivered == expected && connected == o.subscribers;
    println!(
        "published {published} events in {publish_secs:.2} s ({:.0}/s)",
        published as f64 / publish_secs
    );
    println!(
        "delivered {delivered} of {expected} expected frames ({:.0} frames/s), lost {}",
        delivered as f64 / publish_secs,
        expected.saturating_sub(delivered)
    );
    println!("latency p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms");
    println!(
        "{}",
        json!({
            "subscribers": o.subscribers,
            "connected": connected,
            "conversations": ids.len(),
            "rate": o.rate,
            "seconds": o.seconds,
            "published": published,
            "expected": expected,
            "delivered": delivered,
            "p50_ms": p50,
            "p99_ms": p99,
            "max_ms": max,
            "ok": ok,
        })
    );
    Ok(ok)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("sim-load: {e}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("sim-load: {e}");
            ExitCode::FAILURE
        }
    }
}
