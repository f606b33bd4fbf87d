//! The `/sim` control surface, seeds, the traffic generator and the simulator's lifecycle.

use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use voicebip_sim::{SeedSize, SimConfig};

#[tokio::test]
async fn info_describes_the_simulator() {
    let sim = sim().await;
    let info = sim.info().await;
    assert_eq!(info["demo_key"], KEY);
    assert_eq!(info["base_url"], sim.handle.base_url());
    assert_eq!(info["api_base_url"], format!("{}/v1", sim.base));
    assert!(sim.base.starts_with("http://127.0.0.1:"));
    assert!(info["big_thread_id"].is_null());
    let agents = info["agents"].as_array().unwrap();
    assert!(agents.len() >= 3);
    for agent in agents {
        assert!(agent["agent_id"].as_str().unwrap().starts_with("agt_VBIP_"));
        assert!(agent["name"].is_string());
        let number = agent["number"].as_str().unwrap();
        assert!(
            number.starts_with("+23490") || number.starts_with("+23480"),
            "{number}"
        );
        assert_eq!(agent["numbers"][0], number);
    }
}

async fn ids(sim: &Sim) -> Vec<Value> {
    let items = sim.all_conversations("").await;
    items
        .into_iter()
        .map(|i| i["conversation_id"].clone())
        .collect()
}

#[tokio::test]
async fn the_seed_decides_the_data() {
    let a = sim().await;
    let b = sim().await;
    let c = sim_with(SimConfig {
        seed: 7,
        ..fast_config()
    })
    .await;
    let (ia, ib, ic) = (ids(&a).await, ids(&b).await, ids(&c).await);
    assert_eq!(ia, ib);
    assert_ne!(ia, ic);
    assert_eq!(a.info().await["agents"], b.info().await["agents"]);
}

#[tokio::test]
async fn the_clock_moves_windows() {
    let sim = sim().await;
    let (id, agent) = sim.fresh_conversation("whatsapp", "+2348060000001").await;
    let before = sim.control(Method::GET, "/sim/clock", None).await.json;
    let r = sim
        .control(
            Method::POST,
            "/sim/clock",
            Some(json!({"advance_seconds": 25 * 3600})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["offset_seconds"], 25.0 * 3600.0);
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert!(parse(&r.json["now"]) - parse(&before["now"]) >= chrono::Duration::hours(25));
    let send = sim
        .send_json(
            Method::POST,
            "/v1/messages",
            json!({
            "agent_id": agent["agent_id"], "channel": "whatsapp", "from_number": agent["number"],
            "to_number": "+2348060000001", "body": "Hello?" }),
        )
        .await;
    send.assert_error(422, "WINDOW_CLOSED");
    // New records carry simulated time.
    let inbound = sim.inbound_to(&id, "I'm back").await;
    let conv = sim
        .get_ok(&format!(
            "/v1/conversations/{}?page_size=1",
            inbound["conversation_id"].as_str().unwrap()
        ))
        .await;
    assert!(parse(&conv["messages"][0]["created_at"]) >= parse(&r.json["now"]));
    sim.control(
        Method::POST,
        "/sim/clock",
        Some(json!({"advance_seconds": "soon"})),
    )
    .await
    .assert_error(400, "INVALID_ARGUMENT");
}

async fn received_events(sim: &Sim) -> usize {
    let events = sim.control(Method::GET, "/sim/events", None).await.json;
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "message.received")
        .count()
}

#[tokio::test]
async fn traffic_writes_in_at_the_set_rate_and_stops() {
    let sim = sim().await;
    assert_eq!(
        sim.control(Method::GET, "/sim/traffic", None).await.json["per_minute"],
        0.0
    );
    let r = sim
        .control(
            Method::POST,
            "/sim/traffic",
            Some(json!({"per_minute": 1200.0})),
        )
        .await;
    assert_eq!(r.status, 200);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let n = received_events(&sim).await;
    assert!(
        (8..=30).contains(&n),
        "about 20 in a second at 1200/min, got {n}"
    );
    sim.control(Method::POST, "/sim/traffic", Some(json!({"per_minute": 0})))
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopped = received_events(&sim).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(received_events(&sim).await, stopped, "no traffic after 0");
    sim.control(
        Method::POST,
        "/sim/traffic",
        Some(json!({"per_minute": -1})),
    )
    .await
    .assert_error(400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn traffic_can_start_with_the_simulator() {
    let sim = sim_with(SimConfig {
        traffic_per_minute: 1200.0,
        ..fast_config()
    })
    .await;
    sim.eventually(5, "traffic", || async { received_events(&sim).await >= 3 })
        .await;
    let stats = sim.control(Method::GET, "/sim/stats", None).await.json;
    assert_eq!(stats["traffic_per_minute"], 1200.0);
    assert!(stats["conversations"].as_u64().unwrap() >= 300);
    assert!(stats["messages"].as_u64().unwrap() > 300);
}

#[tokio::test]
async fn settings_change_timings_at_run_time() {
    let sim = sim().await;
    let r = sim
        .control(
            Method::POST,
            "/sim/settings",
            Some(json!({"status_step_ms": 5, "ai_reply_delay_ms": 10})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status_step_ms"], 5);
    assert_eq!(r.json["ai_reply_delay_ms"], 10);
    assert_eq!(r.json["rate_limit_per_minute"], 5000);
    sim.control(Method::POST, "/sim/settings", Some(json!({"speed": 2})))
        .await
        .assert_error(400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn bulk_adds_recent_conversations() {
    let sim = sim().await;
    let agent_id = sim.agent_id(0).await;
    let r = sim
        .control(
            Method::POST,
            "/sim/bulk",
            Some(json!({"agent_id": agent_id, "count": 50, "channel": "sms"})),
        )
        .await;
    assert_eq!(r.json["created"], 50);
    let top = sim.get_ok("/v1/conversations?page_size=50").await;
    assert!(top["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["channel"] == "sms" && i["agent_id"] == agent_id.as_str()));
    assert_eq!(
        top["conversations"][0]["conversation_id"],
        r.json["last_conversation_id"]
    );
    for bad in [
        json!({"agent_id": agent_id, "count": 0}),
        json!({"agent_id": agent_id}),
    ] {
        sim.control(Method::POST, "/sim/bulk", Some(bad))
            .await
            .assert_error(400, "INVALID_ARGUMENT");
    }
    sim.control(
        Method::POST,
        "/sim/bulk",
        Some(json!({"agent_id": "agt_x", "count": 1})),
    )
    .await
    .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn window_control_validates_and_404s() {
    let sim = sim().await;
    let (id, _) = sim.fresh_conversation("whatsapp", "+2348060000002").await;
    let path = format!("/sim/conversations/{id}/window");
    for bad in [
        json!({}),
        json!({"expires_at": "tomorrow"}),
        json!({"expired": true, "expires_at": "2026-01-01T00:00:00Z"}),
    ] {
        sim.control(Method::POST, &path, Some(bad))
            .await
            .assert_error(400, "INVALID_ARGUMENT");
    }
    let r = sim
        .control(
            Method::POST,
            &path,
            Some(json!({"expires_at": "2030-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(r.json["window_expires_at"], "2030-01-01T00:00:00Z");
    sim.control(
        Method::POST,
        "/sim/conversations/conv_x/window",
        Some(json!({"expired": true})),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    sim.control(Method::GET, "/sim/conversations/conv_x/audit", None)
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn the_large_seed_has_10000_conversations_and_a_5000_message_thread() {
    let sim = sim_with(SimConfig {
        size: SeedSize::Large,
        ..fast_config()
    })
    .await;
    let info = sim.info().await;
    assert_eq!(info["size"], "large");
    assert_eq!(info["conversations"], 10_000);
    let big = info["big_thread_id"].as_str().unwrap().to_string();
    assert_eq!(sim.handle.big_thread_id().as_deref(), Some(big.as_str()));
    let mut count = 0;
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/v1/conversations/{big}?page_size=100&page_token={t}"),
            None => format!("/v1/conversations/{big}?page_size=100"),
        };
        let page = sim.get_ok(&path).await;
        count += page["messages"].as_array().unwrap().len();
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(count, voicebip_sim::BIG_THREAD_MESSAGES);
    let last = sim.get_ok("/v1/conversations?page_size=100").await;
    assert_eq!(last["conversations"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sim = sim().await;
    let url = sim.url("/sim/info");
    assert!(sim.http.get(&url).send().await.is_ok());
    tokio::time::timeout(Duration::from_secs(6), sim.handle.shutdown())
        .await
        .unwrap();
    let after = reqwest::Client::new().get(&url).send().await;
    assert!(after.is_err(), "nothing listens after shutdown");
}

#[tokio::test]
async fn simulators_are_independent() {
    let a = sim().await;
    let b = sim().await;
    let (id, _) = a.fresh_conversation("sms", "+2348060000003").await;
    assert_eq!(a.get(&format!("/v1/conversations/{id}")).await.status, 200);
    b.get(&format!("/v1/conversations/{id}"))
        .await
        .assert_error(404, "NOT_FOUND");
}

/// A clock moved beyond what its milliseconds hold, or a rate whose wait no timer holds, is
/// refused: either one took the simulator down (every handler reads the clock; the traffic task
/// ended for good while `/sim/traffic` still told its rate).
#[tokio::test]
async fn controls_out_of_range_are_refused_and_the_simulator_goes_on() {
    let sim = sim().await;
    for (path, body) in [
        ("/sim/clock", json!({"advance_seconds": 1e17})),
        ("/sim/clock", json!({"advance_seconds": -1e17})),
        ("/sim/traffic", json!({"per_minute": 1e-20})),
        ("/sim/traffic", json!({"per_minute": -1.0})),
    ] {
        let r = sim.control(Method::POST, path, Some(body.clone())).await;
        assert_eq!(r.status, 400, "{path} {body}: {:?}", r.json);
    }
    assert_eq!(
        sim.control(Method::GET, "/sim/traffic", None).await.json["per_minute"],
        0.0
    );
    let r = sim.control(Method::GET, "/sim/clock", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["offset_seconds"], 0.0);
}
