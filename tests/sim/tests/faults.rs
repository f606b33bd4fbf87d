//! Fault injection (`/sim/faults`) and the request log (`/sim/requests`).

use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn fault(sim: &Sim, spec: Value) {
    let r = sim.control(Method::POST, "/sim/faults", Some(spec)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.json["fault_id"].is_string());
}

async fn first_id(sim: &Sim) -> String {
    sim.get_ok("/v1/conversations?page_size=1").await["conversations"][0]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn latency_delays_only_the_matching_route() {
    let sim = sim().await;
    let id = first_id(&sim).await;
    fault(
        &sim,
        json!({"route": "GET /v1/conversations", "latency_ms": 1000}),
    )
    .await;
    let t = Instant::now();
    assert_eq!(sim.get("/v1/conversations").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(1000));
    // (A bound far above a request's time in a debug build, with other tests running.)
    let t = Instant::now();
    assert_eq!(
        sim.get(&format!("/v1/conversations/{id}")).await.status,
        200
    );
    assert!(t.elapsed() < Duration::from_millis(1000));
}

#[tokio::test]
async fn error_rate_fails_that_share_with_the_status() {
    let sim = sim().await;
    let id = first_id(&sim).await;
    fault(
        &sim,
        json!({"route": "GET /v1/conversations/{id}", "error_rate": 0.5, "status": 503}),
    )
    .await;
    let mut failed = 0;
    for _ in 0..10 {
        let r = sim.get(&format!("/v1/conversations/{id}")).await;
        if r.status == 503 {
            r.assert_error(503, "UNAVAILABLE");
            failed += 1;
        } else {
            assert_eq!(r.status, 200);
        }
    }
    assert_eq!(failed, 5);
    assert_eq!(
        sim.get("/v1/conversations").await.status,
        200,
        "other routes unaffected"
    );
    // Another method on the same path is unaffected.
    assert_eq!(sim.patch_mode(&id, "human").await.status, 200);
}

#[tokio::test]
async fn a_status_with_a_count_fails_that_many_requests_then_clears() {
    let sim = sim().await;
    fault(
        &sim,
        json!({"route": "/conversations", "status": 500, "count": 2}),
    )
    .await;
    sim.get("/v1/conversations")
        .await
        .assert_error(500, "INTERNAL");
    sim.get("/v1/conversations")
        .await
        .assert_error(500, "INTERNAL");
    assert_eq!(sim.get("/v1/conversations").await.status, 200);
    let list = sim.control(Method::GET, "/sim/faults", None).await.json;
    assert_eq!(list["faults"], json!([]));
}

#[tokio::test]
async fn forced_429_carries_retry_after() {
    let sim = sim().await;
    fault(
        &sim,
        json!({"route": "*", "force_429_retry_after": 3, "count": 2}),
    )
    .await;
    for _ in 0..2 {
        let r = sim.get("/v1/conversations").await;
        r.assert_error(429, "RATE_LIMITED");
        assert_eq!(r.header("retry-after"), Some("3"));
    }
    assert_eq!(sim.get("/v1/conversations").await.status, 200);
}

#[tokio::test]
async fn delete_clears_all_faults() {
    let sim = sim().await;
    fault(&sim, json!({"route": "*", "status": 502})).await;
    sim.get("/v1/conversations")
        .await
        .assert_error(502, "BAD_GATEWAY");
    let r = sim.control(Method::DELETE, "/sim/faults", None).await;
    assert_eq!(r.status, 204);
    assert_eq!(sim.get("/v1/conversations").await.status, 200);
}

#[tokio::test]
async fn drop_stream_after_ends_the_stream_after_n_frames() {
    let sim = sim().await;
    let id = first_id(&sim).await;
    fault(
        &sim,
        json!({"route": "*", "drop_stream_after": 2, "count": 1}),
    )
    .await;
    // A plain GET of the conversation does not use up the stream rule, though its route is
    // every route's.
    assert_eq!(
        sim.get(&format!("/v1/conversations/{id}")).await.status,
        200
    );
    let mut stream = sim.stream(&id).await;
    for n in 0..3 {
        sim.control(
            Method::POST,
            &format!("/sim/conversations/{id}/events"),
            Some(json!({"event_type": "test.event", "payload": {"n": n}})),
        )
        .await;
    }
    let frames = stream.collect_for(Duration::from_secs(2)).await;
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert!(stream.ended, "the server closed the stream");
    sim.eventually(5, "subscriber released", || async {
        sim.subscribers(&id).await == 0
    })
    .await;
    // The rule was for one stream: the next one is normal.
    let mut again = sim.stream(&id).await;
    for n in 0..3 {
        sim.control(
            Method::POST,
            &format!("/sim/conversations/{id}/events"),
            Some(json!({"event_type": "test.event", "payload": {"n": n}})),
        )
        .await;
    }
    assert_eq!(again.collect_for(Duration::from_millis(500)).await.len(), 3);
}

#[tokio::test]
async fn stall_stream_keeps_the_stream_open_and_silent() {
    let sim = sim().await;
    let id = first_id(&sim).await;
    // Keepalives due ten times in the wait below: a stalled stream sends not even those.
    sim.control(
        Method::POST,
        "/sim/settings",
        Some(json!({"keepalive_ms": 100})),
    )
    .await;
    fault(
        &sim,
        json!({"route": "GET /v1/conversations/{id}/stream", "stall_stream": true, "count": 1}),
    )
    .await;
    let mut stream = sim.stream(&id).await;
    sim.control(
        Method::POST,
        &format!("/sim/conversations/{id}/events"),
        Some(json!({"event_type": "test.event", "payload": {}})),
    )
    .await;
    // Open (its first comment), then nothing (`next_frame`, as `collect_for` passes over
    // comments).
    let opened = stream.next_frame(Duration::from_secs(1)).await;
    assert_eq!(
        opened.map(|f| f.comments),
        Some(vec!["connected".to_string()])
    );
    let frame = stream.next_frame(Duration::from_secs(1)).await;
    assert!(frame.is_none(), "{frame:?}");
    assert!(!stream.ended, "still open");
    // The next stream is normal.
    let mut again = sim.stream(&id).await;
    sim.control(
        Method::POST,
        &format!("/sim/conversations/{id}/events"),
        Some(json!({"event_type": "test.event", "payload": {}})),
    )
    .await;
    assert_eq!(again.collect_for(Duration::from_millis(500)).await.len(), 1);
}

#[tokio::test]
async fn malformed_frame_sends_one_non_json_data_frame() {
    let sim = sim().await;
    let id = first_id(&sim).await;
    fault(
        &sim,
        json!({"route": "*", "malformed_frame": true, "count": 1}),
    )
    .await;
    let mut stream = sim.stream(&id).await;
    let bad = stream.next_data(Duration::from_secs(2)).await.unwrap();
    assert!(
        serde_json::from_str::<Value>(bad.data.as_deref().unwrap()).is_err(),
        "{bad:?}"
    );
    sim.control(
        Method::POST,
        &format!("/sim/conversations/{id}/events"),
        Some(json!({"event_type": "test.event", "payload": {}})),
    )
    .await;
    let good = stream.next_data(Duration::from_secs(2)).await.unwrap();
    assert_eq!(good.json()["event_type"], "test.event");
}

/// A gateway's answer without CORS headers, on the routes the rule names only.
#[tokio::test]
async fn omit_cors_leaves_out_the_cors_headers() {
    let sim = sim().await;
    let id = first_id(&sim).await;
    let stream = format!("/v1/conversations/{id}/stream?token={KEY}");
    fault(
        &sim,
        json!({"route": "GET /v1/conversations/{id}/stream", "stream_status": 401, "omit_cors": true}),
    )
    .await;
    let cors = async |path: &str| {
        let r = sim
            .http
            .get(sim.url(path))
            .bearer_auth(KEY)
            .header("Origin", "http://localhost:9999")
            .send()
            .await
            .unwrap();
        (
            r.status(),
            r.headers().contains_key("access-control-allow-origin"),
        )
    };
    assert_eq!(
        cors(&stream).await,
        (reqwest::StatusCode::UNAUTHORIZED, false)
    );
    assert_eq!(
        cors(&format!("/v1/conversations/{id}")).await,
        (reqwest::StatusCode::OK, true)
    );
}

#[tokio::test]
async fn html_page_answers_with_a_sign_in_page() {
    let sim = sim().await;
    let agent = sim.get_ok("/v1/conversations?page_size=1").await["conversations"][0]["agent_id"]
        .as_str()
        .expect("an agent")
        .to_owned();
    let export = format!("/v1/agents/{agent}/conversations/export?format=csv");
    fault(
        &sim,
        json!({"route": "GET /v1/agents/{id}/conversations/export", "html_page": true, "count": 1}),
    )
    .await;
    let page = sim.get(&export).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.text.starts_with("<!doctype html>"), "{}", page.text);
    let csv = sim.get(&export).await;
    assert_eq!(
        csv.header("content-type"),
        Some("text/csv; charset=utf-8"),
        "one page, then the export"
    );
}

#[tokio::test]
async fn stream_status_refuses_the_stream_only() {
    let sim = sim().await;
    let id = first_id(&sim).await;
    fault(&sim, json!({"route": "*", "stream_status": 401})).await;
    assert_eq!(
        sim.get(&format!("/v1/conversations/{id}")).await.status,
        200
    );
    let r = into_resp(
        sim.http
            .get(sim.url(&format!("/v1/conversations/{id}/stream?token={KEY}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(401, "UNAUTHENTICATED");
    sim.control(Method::DELETE, "/sim/faults", None).await;
    fault(&sim, json!({"route": "*", "stream_status": 503})).await;
    let r = into_resp(
        sim.request(Method::GET, &format!("/v1/conversations/{id}/stream"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(503, "UNAVAILABLE");
}

/// `carried_out`: the send goes out, and its answer is the error: a second send of the same
/// text would reach the customer twice.
#[tokio::test]
async fn carried_out_answers_with_the_error_after_the_request_is_done() {
    let sim = sim().await;
    let agent = sim.agent(0).await;
    let to = "+2348030000077";
    let body = |text: &str| {
        json!({ "agent_id": agent["agent_id"], "channel": "sms", "from_number": agent["number"],
                "to_number": to, "body": text })
    };
    let first = sim
        .send_json(Method::POST, "/v1/messages", body("First"))
        .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let id = first.json["conversation_id"].as_str().unwrap().to_owned();
    fault(
        &sim,
        json!({"route": "POST /v1/messages", "status": 504, "carried_out": true, "count": 1}),
    )
    .await;
    sim.send_json(Method::POST, "/v1/messages", body("Went out"))
        .await
        .assert_error(504, "DEADLINE_EXCEEDED");
    let thread = sim.get_ok(&format!("/v1/conversations/{id}")).await;
    let texts: Vec<&str> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert!(texts.contains(&"Went out"), "carried out: {texts:?}");
}

#[tokio::test]
async fn bad_fault_specs_are_400() {
    let sim = sim().await;
    for spec in [
        json!({"route": "conversations"}),
        json!({"route": "*", "error_rate": 2.0}),
        json!({"route": "*", "status": 200}),
        json!({"route": "*", "stream_status": 99}),
        json!({"route": "*", "status": 503, "count": 0}),
        json!({"route": "*", "sparkles": true}),
        json!({"latency_ms": 5}),
        json!({"route": "*", "html_page_type": "application/json"}),
        json!({"route": "*", "carried_out": true}),
        json!({"route": "*", "html_page": true, "html_page_type": "bad\nline"}),
    ] {
        sim.control(Method::POST, "/sim/faults", Some(spec))
            .await
            .assert_error(400, "INVALID_ARGUMENT");
    }
}

#[tokio::test]
async fn the_request_log_records_auth_without_the_token_value() {
    let sim = sim().await;
    let id = first_id(&sim).await;
    sim.control(Method::DELETE, "/sim/requests", None).await;
    sim.get("/v1/conversations?page_size=3").await;
    let stream = sim.stream(&id).await;
    drop(stream);
    let _ = sim
        .http
        .get(sim.url("/v1/conversations"))
        .send()
        .await
        .unwrap();
    sim.control(Method::GET, "/sim/info", None).await; // not logged: outside /v1

    let log = sim.control(Method::GET, "/sim/requests", None).await;
    assert!(!log.text.contains(KEY), "the key never appears in the log");
    let entries = log.json.as_array().unwrap().clone();
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[0]["method"], "GET");
    assert_eq!(entries[0]["path"], "/v1/conversations");
    assert_eq!(entries[0]["query"], "page_size=3");
    assert_eq!(entries[0]["has_authorization"], true);
    assert_eq!(entries[0]["query_has_token"], false);
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[1]["path"], format!("/v1/conversations/{id}/stream"));
    assert_eq!(entries[1]["query_has_token"], true);
    assert_eq!(entries[1]["has_authorization"], false);
    assert_eq!(entries[1]["query"], "token=REDACTED");
    assert_eq!(entries[2]["status"], 401);
    assert!(entries[2]["at"].is_string());

    let r = sim.control(Method::DELETE, "/sim/requests", None).await;
    assert_eq!(r.status, 204);
    let log = sim.control(Method::GET, "/sim/requests", None).await.json;
    assert_eq!(log, json!([]));
}

#[tokio::test]
async fn chunk_delay_paces_a_streamed_export() {
    let sim = sim().await;
    let agent_id = sim.agent_id(0).await;
    let r = sim
        .control(
            Method::POST,
            "/sim/bulk",
            Some(json!({"agent_id": agent_id, "count": 1_200})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let path = format!("/v1/agents/{agent_id}/conversations/export?format=csv");
    let t = Instant::now();
    let fast = sim.get(&path).await;
    assert_eq!(fast.status, 200);
    let unpaced = t.elapsed();

    fault(
        &sim,
        json!({"route": "GET /v1/agents/{id}/conversations/export", "chunk_delay_ms": 400}),
    )
    .await;
    let t = Instant::now();
    let response = sim.request(Method::GET, &path).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers_after = t.elapsed();
    let body = response.text().await.unwrap();
    let total = t.elapsed();
    // 1,300-odd rows are the header and three chunks of at most 500: three paced chunks.
    // (Bounds far above a request's time in a debug build, with other tests running.)
    assert!(
        headers_after < Duration::from_millis(400),
        "the headers are not delayed: {headers_after:?}"
    );
    assert!(
        total >= Duration::from_millis(1200),
        "three chunks waited 400 ms each: {total:?} (unpaced {unpaced:?})"
    );
    assert_eq!(body, fast.text, "the same bytes, only slower");
    // Other routes are not paced.
    let t = Instant::now();
    assert_eq!(sim.get("/v1/conversations").await.status, 200);
    assert!(t.elapsed() < Duration::from_millis(400));
}
