//! `voicebip-sim`: runs the simulator until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use voicebip_sim::{SeedSize, SimConfig, DEMO_KEY};

const HELP: &str = "\
voicebip-sim: the Voicebip Conversations API simulator

USAGE:
    voicebip-sim [OPTIONS]

OPTIONS:
    --addr <ADDR>                 Listen address [default: 127.0.0.1:8080] (port 0: any free port)
    --seed <N>                    Seed of the generated data [default: 42]
    --large                       10,000 conversations and a 5,000-message thread
    --traffic-per-minute <RATE>   Customers writing in per minute [default: 0 = off]
    --key <KEY>                   Accepted API key (repeatable) [default: pk_test_demo_voicebip]
    --dist <DIR>                  Serve a built console from DIR on every non-API path
    --rate-limit <N>              Workspace requests per minute [default: 5000]
    --ai-reply-delay-ms <MS>      Hosted-AI answer delay [default: 1500]
    --status-step-ms <MS>         Time between outbound status steps [default: 700]
    --csp <POLICY>                Send this Content-Security-Policy with every console response
    --host-port <PORT>            Port of the embedding demo's host page [default: 0 = any free]
    --no-embed-host               Do not serve the embedding demo's host pages
    -h, --help                    Print this help
";

fn parse_args(
    args: impl Iterator<Item = String>,
) -> Result<Option<(SimConfig, SocketAddr)>, String> {
    let mut config = SimConfig {
        // The binary is the demo: show the embedding too.
        embed_host: true,
        ..SimConfig::default()
    };
    let mut keys = Vec::new();
    let mut addr: SocketAddr = "127.0.0.1:8080".parse().map_err(|e| format!("{e}"))?;
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        // Both `--opt value` and `--opt=value`.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        fn parse<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("invalid value for {name}: {v:?}"))
        }
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => addr = parse(&name, value()?)?,
            "--seed" => config.seed = parse(&name, value()?)?,
            "--large" => config.size = SeedSize::Large,
            "--traffic-per-minute" => config.traffic_per_minute = parse(&name, value()?)?,
            "--key" => keys.push(value()?),
            "--dist" => config.dist_dir = Some(PathBuf::from(value()?)),
            "--rate-limit" => config.rate_limit_per_minute = parse(&name, value()?)?,
            "--ai-reply-delay-ms" => {
                config.ai_reply_delay = std::time::Duration::from_millis(parse(&name, value()?)?)
            }
            "--status-step-ms" => {
                config.status_step = std::time::Duration::from_millis(parse(&name, value()?)?)
            }
            "--csp" => config.csp = Some(value()?),
            "--host-port" => config.embed_host_port = parse(&name, value()?)?,
            "--no-embed-host" => config.embed_host = false,
            other => return Err(format!("unknown option {other:?} (see --help)")),
        }
    }
    if !keys.is_empty() {
        config.api_keys = keys;
    }
    Ok(Some((config, addr)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (config, addr) = match parse_args(std::env::args().skip(1)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("voicebip-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let key = config
        .api_keys
        .first()
        .cloned()
        .unwrap_or_else(|| DEMO_KEY.into());
    let serving_console = config.dist_dir.is_some();
    // Without a console there is nothing to embed.
    let config = SimConfig {
        embed_host: config.embed_host && serving_console,
        ..config
    };
    let sim = match voicebip_sim::start(config, addr).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("voicebip-sim: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = sim.base_url();
    if serving_console {
        println!("Console:  {url}/");
    }
    println!("API:      {url}/v1");
    println!("Key:      {key}");
    println!("Control:  {url}/sim/info");
    if let (true, Some(host), Some(foreign)) = (
        serving_console,
        sim.embed_host_url(),
        sim.foreign_host_url(),
    ) {
        println!("Embedded: {host}  (a host page embedding the console; its origin is allowed)");
        println!("          {foreign}  (the same page on an origin that is not allowed)");
    }
    println!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    println!("Stopping...");
    sim.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<(SimConfig, SocketAddr)>, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn options() {
        let (config, addr) = parse(&[
            "--addr",
            "127.0.0.1:0",
            "--seed=7",
            "--large",
            "--key",
            "pk_a",
            "--key",
            "pk_b",
            "--traffic-per-minute",
            "30",
            "--dist",
            "dist",
            "--rate-limit",
            "10",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(addr.port(), 0);
        assert_eq!(config.seed, 7);
        assert_eq!(config.size, SeedSize::Large);
        assert_eq!(config.api_keys, vec!["pk_a", "pk_b"]);
        assert_eq!(config.traffic_per_minute, 30.0);
        assert_eq!(config.dist_dir, Some(PathBuf::from("dist")));
        assert_eq!(config.rate_limit_per_minute, 10);
        assert!(
            config.embed_host,
            "the binary serves the embedding demo by default"
        );
        assert_eq!(config.embed_host_port, 0);
        assert!(config.csp.is_none());
        let (config, _) = parse(&["--no-embed-host", "--csp", "default-src 'self'"])
            .unwrap()
            .unwrap();
        assert!(!config.embed_host);
        assert_eq!(config.csp.as_deref(), Some("default-src 'self'"));
        let (config, _) = parse(&["--host-port=9099"]).unwrap().unwrap();
        assert_eq!(config.embed_host_port, 9099);
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--seed"]).is_err());
        assert!(parse(&["--seed", "x"]).is_err());
    }
}
