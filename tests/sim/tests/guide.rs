//! The Conversations guide's own examples, sent as written (the guide's key is configured as a
//! valid key; its example ids are replaced by the simulator's), with the documented effects.

use crate::common::*;
use serde_json::{json, Value};
use std::time::Duration;
use voicebip_sim::SimConfig;

const GUIDE_KEY: &str = "pk_live_your_key";

async fn guide_sim() -> Sim {
    sim_with(SimConfig {
        api_keys: vec![GUIDE_KEY.into()],
        ..fast_config()
    })
    .await
}

/// `curl "URL" -H "Authorization: Bearer pk_live_your_key"`
async fn curl_get(sim: &Sim, path: &str) -> Resp {
    into_resp(
        sim.http
            .get(sim.url(path))
            .header("Authorization", format!("Bearer {GUIDE_KEY}"))
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// `curl -X PATCH URL -H "Authorization: ..." -H "Content-Type: application/json" -d '...'`
async fn curl_patch(sim: &Sim, path: &str, data: &'static str) -> Resp {
    into_resp(
        sim.http
            .patch(sim.url(path))
            .header("Authorization", format!("Bearer {GUIDE_KEY}"))
            .header("Content-Type", "application/json")
            .body(data)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn list_conversations_example() {
    let sim = guide_sim().await;
    let r = curl_get(&sim, "/v1/conversations?page_size=20").await;
    assert_eq!(r.status, 200);
    let items = r.json["conversations"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert!(
        r.json["next_page_token"]
            .as_str()
            .unwrap()
            .starts_with("eyJ"),
        "like the guide's \"eyJ...\""
    );
    // The guide's example item, field for field.
    let example = json!({
        "conversation_id": "conv_abc123", "agent_id": "agt_PAEZ_njcfm2kycpjs", "channel": "whatsapp",
        "from_number": "+2348031234567", "to_number": "+2349012345678",
        "window_expires_at": "2026-05-16T14:32:01Z", "opt_out": false,
        "created_at": "2026-05-15T10:15:00Z", "updated_at": "2026-05-15T14:32:01Z",
        "last_message_at": "2026-05-15T14:32:01Z" });
    let mut expected: Vec<&String> = example.as_object().unwrap().keys().collect();
    expected.sort();
    for item in items {
        let mut keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, expected);
    }
    // "Paginate with ?page_token=... returned by the previous response."
    let token = r.json["next_page_token"].as_str().unwrap();
    let next = curl_get(
        &sim,
        &format!("/v1/conversations?page_size=20&page_token={token}"),
    )
    .await;
    assert_eq!(next.status, 200);
    let ids = |page: &[Value]| -> Vec<String> {
        page.iter()
            .map(|i| i["conversation_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let second = ids(next.json["conversations"].as_array().unwrap());
    let first = ids(items);
    assert_eq!(second.len(), 20, "a second page, whole");
    assert!(
        second.iter().all(|id| !first.contains(id)),
        "none of the first"
    );
    // "Filter by agent_id or channel (sms | whatsapp)."
    let agent_id = items[0]["agent_id"].as_str().unwrap();
    let filtered = curl_get(
        &sim,
        &format!("/v1/conversations?agent_id={agent_id}&channel=whatsapp"),
    )
    .await;
    let filtered = filtered.json["conversations"].as_array().unwrap();
    assert!(
        !filtered.is_empty(),
        "the seed has WhatsApp conversations of the first agent"
    );
    assert!(filtered
        .iter()
        .all(|i| i["agent_id"] == agent_id && i["channel"] == "whatsapp"));
}

#[tokio::test]
async fn get_a_single_conversation_example() {
    let sim = guide_sim().await;
    let list = curl_get(&sim, "/v1/conversations?page_size=20&channel=whatsapp").await;
    let id = list.json["conversations"][0]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = curl_get(&sim, &format!("/v1/conversations/{id}")).await;
    assert_eq!(r.status, 200);
    // "The response includes the message thread plus the current ai_mode, created_at, and the
    // WhatsApp window state if applicable."
    assert!(r.json["messages"].as_array().is_some_and(|m| !m.is_empty()));
    assert!(["ai", "human", "closed"].contains(&r.json["ai_mode"].as_str().unwrap()));
    assert!(r.json["created_at"].is_string());
    // (Asked of a WhatsApp conversation, whose window the seed has opened.)
    assert!(
        r.json["window_expires_at"].is_string(),
        "{}",
        r.json["window_expires_at"]
    );
}

#[tokio::test]
async fn handoff_patches_have_the_documented_effects() {
    let sim = guide_sim().await;
    let agent_id = sim.info().await["agents"][0]["agent_id"]
        .as_str()
        .unwrap()
        .to_string();
    let customer = "+2348031234567";
    let first = sim
        .inbound(&agent_id, "whatsapp", customer, "Hello, I need help")
        .await;
    let id = first["conversation_id"].as_str().unwrap().to_string();
    let path = format!("/v1/conversations/{id}");
    let response = sim
        .http
        .get(sim.url(&format!("{path}/stream?token={GUIDE_KEY}")))
        .send()
        .await
        .unwrap();
    let mut es = SseReader::new(response);
    es.expect_event("message.read").await; // the AI's answer to the greeting, read

    // AI → Human: the AI stops answering.
    let human = curl_patch(&sim, &path, r#"{ "ai_mode": "human" }"#).await;
    assert_eq!(
        (human.status, human.json["changed"].as_bool()),
        (200, Some(true))
    );
    let frame = es.expect_event("conversation.mode_changed").await.json();
    // es.onmessage: event_type, conversation_id, timestamp, payload.
    for field in ["event_type", "conversation_id", "timestamp", "payload"] {
        assert!(frame.get(field).is_some(), "{field}");
    }
    sim.inbound(&agent_id, "whatsapp", customer, "Are you a person?")
        .await;
    es.expect_event("message.received").await;
    let silent = es.collect_for(Duration::from_millis(500)).await;
    assert!(silent
        .iter()
        .all(|f| f.json()["payload"]["direction"] != "outbound"));
    // "Idempotency: PATCHing the same ai_mode returns ... changed: false".
    let twice = curl_patch(&sim, &path, r#"{ "ai_mode": "human" }"#).await;
    assert_eq!(twice.json["changed"], false);

    // Human → AI: the next inbound goes to the AI again.
    let ai = curl_patch(&sim, &path, r#"{ "ai_mode": "ai" }"#).await;
    assert_eq!(ai.json["changed"], true);
    sim.inbound(&agent_id, "whatsapp", customer, "ok thanks")
        .await;
    let reply = es.expect_event("message.sent").await.json();
    assert_eq!(reply["payload"]["direction"], "outbound");

    // Audit trail: every transition, with actor, modes and time.
    let history = curl_get(&sim, &path).await.json["mode_history"].clone();
    assert_eq!(history.as_array().unwrap().len(), 2);
    for row in history.as_array().unwrap() {
        for field in ["actor_user_id", "from_mode", "to_mode", "timestamp"] {
            assert!(row.get(field).is_some(), "{field}");
        }
    }

    // * → closed: terminal; the next inbound from this number starts a new conversation.
    let closed = curl_patch(&sim, &path, r#"{ "ai_mode": "closed" }"#).await;
    assert_eq!(
        (closed.status, closed.json["ai_mode"].as_str()),
        (200, Some("closed"))
    );
    let after = sim
        .inbound(&agent_id, "whatsapp", customer, "Hello again")
        .await;
    let new_id = after["conversation_id"].as_str().unwrap();
    assert!(new_id.starts_with("conv_") && new_id != id);
}

#[tokio::test]
async fn export_csv_example() {
    let sim = guide_sim().await;
    let agent_id = sim.info().await["agents"][0]["agent_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = curl_get(
        &sim,
        &format!("/v1/agents/{agent_id}/conversations/export?format=csv"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));
    let lines: Vec<&str> = r.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("conversation_id,agent_id,channel"));
    // One row per conversation of the agent.
    let mut listed = 0;
    let mut token = String::new();
    loop {
        let page = curl_get(
            &sim,
            &format!("/v1/conversations?page_size=100&agent_id={agent_id}{token}"),
        )
        .await;
        listed += page.json["conversations"].as_array().unwrap().len();
        match page.json["next_page_token"].as_str() {
            Some(t) => token = format!("&page_token={t}"),
            None => break,
        }
    }
    assert_eq!(lines.len() - 1, listed);
    let json_export = curl_get(
        &sim,
        &format!("/v1/agents/{agent_id}/conversations/export?format=json"),
    )
    .await;
    assert_eq!(
        json_export.json["conversations"].as_array().unwrap().len(),
        lines.len() - 1
    );
}
