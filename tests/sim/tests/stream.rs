//! `GET /v1/conversations/{id}/stream`: frame format, fan-out, keepalives, disconnects, the
//! terminal error frame.

use crate::common::*;
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

async fn publish(sim: &Sim, id: &str, event_type: &str, payload: serde_json::Value) -> u64 {
    let r = sim
        .control(
            Method::POST,
            &format!("/sim/conversations/{id}/events"),
            Some(json!({ "event_type": event_type, "payload": payload })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["delivered_to"].as_u64().unwrap()
}

async fn two_conversations(sim: &Sim) -> (String, String) {
    let items = sim.get_ok("/v1/conversations?page_size=2").await;
    let id = |i: usize| {
        items["conversations"][i]["conversation_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    (id(0), id(1))
}

#[tokio::test]
async fn frames_have_an_id_no_event_line_and_json_data() {
    let sim = sim().await;
    let (id, _) = two_conversations(&sim).await;
    let mut stream = sim.stream(&id).await;
    let hello = stream.next_frame(Duration::from_secs(2)).await.unwrap();
    assert!(
        hello.data.is_none(),
        "the stream opens with a comment: {hello:?}"
    );
    assert_eq!(
        publish(&sim, &id, "conversation.tagged", json!({"tag": "vip"})).await,
        1
    );
    let frame = stream.next_data(Duration::from_secs(2)).await.unwrap();
    assert!(
        frame.id.as_deref().unwrap().starts_with("evt_"),
        "{frame:?}"
    );
    assert!(
        frame.event.is_none(),
        "no event: line, so onmessage sees it: {}",
        frame.raw
    );
    assert!(!frame.raw.contains("event:"));
    let data = frame.json();
    assert_eq!(data["event_type"], "conversation.tagged");
    assert_eq!(data["conversation_id"], id.as_str());
    assert_eq!(data["payload"], json!({"tag": "vip"}));
    chrono::DateTime::parse_from_rfc3339(data["timestamp"].as_str().unwrap()).unwrap();
    // Each frame has its own id.
    publish(&sim, &id, "conversation.tagged", json!({})).await;
    let second = stream.next_data(Duration::from_secs(2)).await.unwrap();
    assert_ne!(second.id, frame.id);
}

#[tokio::test]
async fn events_fan_out_to_every_subscriber_of_that_conversation_only() {
    let sim = sim().await;
    let (id, other) = two_conversations(&sim).await;
    let mut readers = Vec::new();
    for _ in 0..20 {
        readers.push(sim.stream(&id).await);
    }
    let mut bystander = sim.stream(&other).await;
    assert_eq!(sim.subscribers(&id).await, 20);
    assert_eq!(sim.subscribers(&other).await, 1);
    for n in 0..5 {
        assert_eq!(
            publish(&sim, &id, "test.event", json!({ "n": n })).await,
            20
        );
    }
    let mut first_ids: Option<Vec<String>> = None;
    for reader in &mut readers {
        let mut ns = Vec::new();
        let mut ids = Vec::new();
        for _ in 0..5 {
            let frame = reader
                .next_data(Duration::from_secs(3))
                .await
                .expect("frame");
            ns.push(frame.json()["payload"]["n"].as_i64().unwrap());
            ids.push(frame.id.unwrap());
        }
        assert_eq!(ns, vec![0, 1, 2, 3, 4], "in order");
        match &first_ids {
            None => first_ids = Some(ids),
            Some(expected) => assert_eq!(&ids, expected, "same ids for every subscriber"),
        }
    }
    assert!(bystander
        .collect_for(Duration::from_millis(200))
        .await
        .is_empty());
}

#[tokio::test]
async fn subscribers_are_released_when_clients_disconnect() {
    let sim = sim().await;
    let (id, _) = two_conversations(&sim).await;
    let a = sim.stream(&id).await;
    let b = sim.stream(&id).await;
    let c = sim.stream(&id).await;
    assert_eq!(sim.subscribers(&id).await, 3);
    let stats = sim.control(Method::GET, "/sim/stats", None).await.json;
    assert_eq!(stats["subscribers_total"], 3);
    drop(a);
    drop(b);
    sim.eventually(5, "two subscribers gone", || async {
        sim.subscribers(&id).await == 1
    })
    .await;
    drop(c);
    sim.eventually(5, "no subscriber left", || async {
        sim.subscribers(&id).await == 0
    })
    .await;
    let stats = sim.control(Method::GET, "/sim/stats", None).await.json;
    assert_eq!(stats["subscribers_total"], 0);
    assert_eq!(stats["subscribers"], json!({}));
    assert_eq!(sim.handle.subscriber_count(&id), 0);
    // Publishing to nobody is fine.
    assert_eq!(publish(&sim, &id, "test.event", json!({})).await, 0);
}

#[tokio::test]
async fn keepalive_comments_arrive_on_an_idle_stream() {
    let sim = sim().await;
    sim.control(
        Method::POST,
        "/sim/settings",
        Some(json!({"keepalive_ms": 100})),
    )
    .await;
    let (id, _) = two_conversations(&sim).await;
    let mut stream = sim.stream(&id).await;
    let mut keepalives = 0;
    while let Some(frame) = stream.next_frame(Duration::from_millis(700)).await {
        assert!(frame.data.is_none());
        keepalives += frame.comments.iter().filter(|c| *c == "keepalive").count();
        if keepalives >= 3 {
            break;
        }
    }
    assert!(keepalives >= 3, "{keepalives}");
}

#[tokio::test]
async fn the_default_keepalive_is_15_seconds() {
    let sim = sim().await;
    let settings = sim.control(Method::GET, "/sim/settings", None).await.json;
    assert_eq!(settings["keepalive_ms"], 15_000);
}

#[tokio::test]
async fn unknown_conversations_are_404() {
    let sim = sim().await;
    let r = into_resp(
        sim.http
            .get(sim.url(&format!("/v1/conversations/conv_nope/stream?token={KEY}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(404, "NOT_FOUND");
    sim.control(
        Method::POST,
        "/sim/conversations/conv_nope/events",
        Some(json!({"event_type": "x"})),
    )
    .await
    .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn shutdown_ends_streams_with_an_error_frame() {
    let Sim { handle, base, http } = sim().await;
    let items: serde_json::Value = http
        .get(format!("{base}/v1/conversations?page_size=1"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = items["conversations"][0]["conversation_id"]
        .as_str()
        .unwrap();
    let response = http
        .get(format!("{base}/v1/conversations/{id}/stream?token={KEY}"))
        .send()
        .await
        .unwrap();
    let mut stream = SseReader::new(response);
    stream.next_frame(Duration::from_secs(2)).await.unwrap();
    let stopping = tokio::spawn(handle.shutdown());
    let frame = stream
        .next_data(Duration::from_secs(3))
        .await
        .expect("error frame");
    assert_eq!(frame.event.as_deref(), Some("error"));
    let data = frame.json();
    assert!(
        data["error_code"].is_string() && data["message"].is_string(),
        "{data}"
    );
    assert!(
        stream.next_frame(Duration::from_secs(3)).await.is_none(),
        "then the stream ends"
    );
    // (`None` is also a wait that ran out: the server must have closed it.)
    assert!(stream.ended, "the server closed the stream");
    tokio::time::timeout(Duration::from_secs(6), stopping)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_stream_error_frame_fault_refuses_by_the_frame() {
    let sim = sim().await;
    // (Open: a message to it is its stream's.)
    let open = sim.find_conversation(|c| c["ai_mode"] != "closed").await;
    let id = open["conversation_id"].as_str().unwrap().to_owned();
    let bad = sim
        .control(
            Method::POST,
            "/sim/faults",
            Some(json!({"route": "GET /v1/conversations/{id}/stream", "stream_error_frame": "not a code"})),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    let added = sim
        .control(
            Method::POST,
            "/sim/faults",
            Some(json!({"route": "GET /v1/conversations/{id}/stream", "stream_error_frame": "QUOTA_EXCEEDED", "count": 1})),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.text);
    let mut stream = sim.stream(&id).await;
    let frame = stream
        .next_data(Duration::from_secs(2))
        .await
        .expect("the error frame");
    assert_eq!(frame.event.as_deref(), Some("error"));
    assert_eq!(frame.json()["error_code"], "QUOTA_EXCEEDED");
    assert!(
        stream.next_frame(Duration::from_secs(2)).await.is_none(),
        "then the stream ends"
    );
    // (`None` is also a wait that ran out: the server must have closed it.)
    assert!(stream.ended, "the server closed the stream");
    // Once: the next stream is served (every stream opens with a comment, `: connected`: an
    // event of its own is what tells it is served, not refused).
    let mut again = sim.stream(&id).await;
    sim.inbound_to(&id, "After the refusal").await;
    let next = again
        .next_data(Duration::from_secs(2))
        .await
        .expect("an event");
    assert_ne!(next.event.as_deref(), Some("error"));
    assert_eq!(next.event_type(), "message.received");
}

#[tokio::test]
async fn many_conversations_stream_at_once() {
    let sim = sim().await;
    let items = sim.get_ok("/v1/conversations?page_size=30").await;
    let ids: Vec<String> = items["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["conversation_id"].as_str().unwrap().to_string())
        .collect();
    let mut readers = Vec::new();
    for id in &ids {
        readers.push((id.clone(), sim.stream(id).await));
    }
    for id in &ids {
        publish(&sim, id, "test.event", json!({ "for": id })).await;
    }
    let mut seen = HashSet::new();
    for (id, reader) in &mut readers {
        let frame = reader.next_data(Duration::from_secs(3)).await.unwrap();
        assert_eq!(frame.json()["payload"]["for"], id.as_str());
        seen.insert(id.clone());
    }
    assert_eq!(seen.len(), 30);
}
