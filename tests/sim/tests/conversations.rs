//! `GET /v1/conversations`, `GET /v1/conversations/{id}`, `PATCH /v1/conversations/{id}`.

use crate::common::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["conversation_id"].as_str().unwrap().to_string())
        .collect()
}

fn ts(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("timestamp string")).expect("ISO 8601")
}

fn decode_token(token: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD.decode(token).expect("unpadded base64url");
    serde_json::from_slice(&bytes).expect("JSON inside the token")
}

#[tokio::test]
async fn list_items_have_the_documented_fields_without_ai_mode() {
    let sim = sim().await;
    let page = sim.get_ok("/v1/conversations").await;
    let items = page["conversations"].as_array().unwrap();
    assert_eq!(items.len(), 20, "default page_size is 20");
    assert!(page.get("data").is_none());
    for item in items {
        let keys: HashSet<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, LIST_ITEM_FIELDS.into_iter().collect(), "{item}");
        assert!(item.get("ai_mode").is_none());
        assert!(item["conversation_id"]
            .as_str()
            .unwrap()
            .starts_with("conv_"));
        assert!(item["agent_id"].as_str().unwrap().starts_with("agt_"));
        for field in ["created_at", "updated_at", "last_message_at"] {
            assert!(item[field].as_str().unwrap().ends_with('Z'));
            ts(&item[field]);
        }
        match item["channel"].as_str().unwrap() {
            "sms" => assert!(item["window_expires_at"].is_null(), "{item}"),
            "whatsapp" => {
                if !item["window_expires_at"].is_null() {
                    ts(&item["window_expires_at"]);
                }
            }
            other => panic!("channel {other}"),
        }
        // The remote party is the customer; the agent's number is the other side.
        assert!(item["from_number"].as_str().unwrap().starts_with("+234"));
        assert!(item["to_number"].as_str().unwrap().starts_with("+234"));
    }
}

#[tokio::test]
async fn pagination_visits_every_conversation_once_in_order_and_ends_without_a_token() {
    let sim = sim().await;
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &token {
            Some(t) => format!("/v1/conversations?page_size=7&page_token={t}"),
            None => "/v1/conversations?page_size=7".to_string(),
        };
        let page = sim.get_ok(&path).await;
        pages += 1;
        let items = page["conversations"].as_array().unwrap().clone();
        assert!(items.len() <= 7);
        seen.extend(items);
        match page.get("next_page_token") {
            Some(Value::String(t)) => token = Some(t.clone()),
            None => break,
            Some(other) => panic!("next_page_token must be absent, not {other}"),
        }
    }
    assert_eq!(seen.len(), voicebip_sim::DEMO_CONVERSATIONS);
    assert_eq!(pages, voicebip_sim::DEMO_CONVERSATIONS.div_ceil(7));
    let unique: HashSet<String> = ids(&seen).into_iter().collect();
    assert_eq!(unique.len(), seen.len(), "no conversation twice");
    for pair in seen.windows(2) {
        let (a, b) = (
            ts(&pair[0]["last_message_at"]),
            ts(&pair[1]["last_message_at"]),
        );
        assert!(
            a > b
                || (a == b
                    && pair[0]["conversation_id"].as_str() > pair[1]["conversation_id"].as_str()),
            "most recent first: {} then {}",
            pair[0],
            pair[1]
        );
    }
}

#[tokio::test]
async fn an_exact_last_page_has_no_token() {
    let sim = sim().await;
    let page = sim.get_ok("/v1/conversations?page_size=100").await;
    let t1 = page["next_page_token"].as_str().unwrap().to_string();
    let page = sim
        .get_ok(&format!("/v1/conversations?page_size=100&page_token={t1}"))
        .await;
    let t2 = page["next_page_token"].as_str().unwrap().to_string();
    let last = sim
        .get_ok(&format!("/v1/conversations?page_size=100&page_token={t2}"))
        .await;
    assert_eq!(last["conversations"].as_array().unwrap().len(), 100);
    assert!(
        last.get("next_page_token").is_none(),
        "300 = 3 full pages: no 4th"
    );
}

#[tokio::test]
async fn page_tokens_are_base64url_json_naming_the_last_item() {
    let sim = sim().await;
    let page = sim
        .get_ok("/v1/conversations?page_size=5&channel=sms")
        .await;
    let token = page["next_page_token"].as_str().unwrap();
    assert!(!token.contains('=') && !token.contains('+') && !token.contains('/'));
    let cursor = decode_token(token);
    let last = &page["conversations"][4];
    assert_eq!(cursor["conversation_id"], last["conversation_id"]);
    assert_eq!(ts(&cursor["last_message_at"]), ts(&last["last_message_at"]));
    assert_eq!(cursor["channel"], "sms");
    assert_eq!(cursor["page_size"], 5);
}

#[tokio::test]
async fn page_size_must_be_1_to_100() {
    let sim = sim().await;
    for bad in ["0", "101", "-1", "abc", "1.5", ""] {
        sim.get(&format!("/v1/conversations?page_size={bad}"))
            .await
            .assert_error(400, "INVALID_ARGUMENT");
    }
    for (size, expect) in [("1", 1), ("100", 100), ("37", 37)] {
        let page = sim
            .get_ok(&format!("/v1/conversations?page_size={size}"))
            .await;
        assert_eq!(page["conversations"].as_array().unwrap().len(), expect);
    }
}

#[tokio::test]
async fn a_token_is_refused_with_other_filters_or_page_size_and_garbage_is_refused() {
    let sim = sim().await;
    let agent = sim.agent_id(0).await;
    let page = sim.get_ok("/v1/conversations?page_size=5").await;
    let token = page["next_page_token"].as_str().unwrap().to_string();
    for query in [
        format!("page_size=6&page_token={token}"),
        format!("page_size=5&channel=sms&page_token={token}"),
        format!("page_size=5&agent_id={agent}&page_token={token}"),
    ] {
        sim.get(&format!("/v1/conversations?{query}"))
            .await
            .assert_error(400, "INVALID_ARGUMENT");
    }
    // Same filters and size: fine. Leaving page_size out asks for the default (20): a change.
    let same = sim
        .get_ok(&format!("/v1/conversations?page_size=5&page_token={token}"))
        .await;
    assert_eq!(same["conversations"].as_array().unwrap().len(), 5);
    sim.get(&format!("/v1/conversations?page_token={token}"))
        .await
        .assert_error(400, "INVALID_ARGUMENT");

    // A filtered token is refused without its filter.
    let filtered = sim
        .get_ok("/v1/conversations?page_size=5&channel=whatsapp")
        .await;
    let ftoken = filtered["next_page_token"].as_str().unwrap();
    sim.get(&format!(
        "/v1/conversations?page_size=5&page_token={ftoken}"
    ))
    .await
    .assert_error(400, "INVALID_ARGUMENT");

    for garbage in ["abc", "eyJ", "%%%", "bm90IGpzb24"] {
        sim.get(&format!("/v1/conversations?page_token={garbage}"))
            .await
            .assert_error(400, "INVALID_ARGUMENT");
    }
    // A token made with a page size out of bounds (its format is documented) is refused, for
    // lists and messages alike, asked for without page_size (so at the default, another size).
    let conv = sim
        .find_conversation(|c| c.get("next_page_token").is_some())
        .await;
    let mtoken = conv["next_page_token"].as_str().unwrap();
    let id = conv["conversation_id"].as_str().unwrap();
    for size in [0, 500] {
        for (path, token) in [
            ("/v1/conversations?".to_string(), token.as_str()),
            (format!("/v1/conversations/{id}?"), mtoken),
        ] {
            let mut made = decode_token(token);
            made["page_size"] = json!(size);
            let made = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&made).unwrap());
            sim.get(&format!("{path}page_token={made}"))
                .await
                .assert_error(400, "INVALID_ARGUMENT");
        }
    }
    // A message token is not a list token.
    sim.get(&format!(
        "/v1/conversations?page_size=1&page_token={mtoken}"
    ))
    .await
    .assert_error(400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn pages_are_stable_while_new_conversations_arrive() {
    let sim = sim().await;
    let first = sim.get_ok("/v1/conversations?page_size=10").await;
    let token = first["next_page_token"].as_str().unwrap().to_string();
    let second_before = sim
        .get_ok(&format!(
            "/v1/conversations?page_size=10&page_token={token}"
        ))
        .await;

    let agent = sim.agent_id(1).await;
    let fresh = sim
        .inbound(&agent, "sms", "+2348099990001", "Hello, new here")
        .await;
    assert_eq!(fresh["new_conversation"], true);

    let second_after = sim
        .get_ok(&format!(
            "/v1/conversations?page_size=10&page_token={token}"
        ))
        .await;
    assert_eq!(
        second_before["conversations"],
        second_after["conversations"]
    );
    let first_ids: HashSet<String> = ids(first["conversations"].as_array().unwrap())
        .into_iter()
        .collect();
    for id in ids(second_after["conversations"].as_array().unwrap()) {
        assert!(!first_ids.contains(&id), "{id} repeated across pages");
    }
    // A fresh first page starts with the newcomer.
    let top = sim.get_ok("/v1/conversations?page_size=1").await;
    assert_eq!(
        top["conversations"][0]["conversation_id"],
        fresh["conversation_id"]
    );
}

#[tokio::test]
async fn filters_by_agent_and_channel() {
    let sim = sim().await;
    let info = sim.info().await;
    let mut total = 0;
    for agent in info["agents"].as_array().unwrap() {
        let agent_id = agent["agent_id"].as_str().unwrap();
        let items = sim
            .all_conversations(&format!("&agent_id={agent_id}"))
            .await;
        assert!(!items.is_empty());
        assert!(items.iter().all(|i| i["agent_id"] == agent_id));
        assert!(items.iter().all(|i| i["to_number"] == agent["number"]));
        total += items.len();
        let sms = sim
            .all_conversations(&format!("&agent_id={agent_id}&channel=sms"))
            .await;
        assert!(sms
            .iter()
            .all(|i| i["agent_id"] == agent_id && i["channel"] == "sms"));
        assert!(sms.len() < items.len());
    }
    assert_eq!(total, voicebip_sim::DEMO_CONVERSATIONS);
    let wa = sim.all_conversations("&channel=whatsapp").await;
    let sms = sim.all_conversations("&channel=sms").await;
    assert!(wa.iter().all(|i| i["channel"] == "whatsapp"));
    assert_eq!(wa.len() + sms.len(), voicebip_sim::DEMO_CONVERSATIONS);
    sim.get("/v1/conversations?channel=fax")
        .await
        .assert_error(400, "INVALID_ARGUMENT");
    sim.get("/v1/conversations?channel=SMS")
        .await
        .assert_error(400, "INVALID_ARGUMENT");
    // An unknown agent is just an empty list (ids are opaque).
    let none = sim.get_ok("/v1/conversations?agent_id=agt_nobody").await;
    assert_eq!(none["conversations"], json!([]));
    assert!(none.get("next_page_token").is_none());
}

#[tokio::test]
async fn a_conversation_has_mode_history_and_messages_newest_first() {
    let sim = sim().await;
    let conv = sim
        .find_conversation(|c| c["ai_mode"] == "human" && c.get("next_page_token").is_some())
        .await;
    let id = conv["conversation_id"].as_str().unwrap();
    let full = sim.get_ok(&format!("/v1/conversations/{id}")).await;
    for field in LIST_ITEM_FIELDS {
        assert!(full.get(field).is_some(), "{field}");
    }
    assert_eq!(full["ai_mode"], "human");
    let row = &full["mode_history"][0];
    assert_eq!(
        (row["from_mode"].as_str(), row["to_mode"].as_str()),
        (Some("ai"), Some("human"))
    );
    assert!(row["actor_user_id"].as_str().unwrap().starts_with("usr_"));
    ts(&row["timestamp"]);

    let messages = full["messages"].as_array().unwrap();
    assert!(!messages.is_empty() && messages.len() <= 20);
    for m in messages {
        for field in [
            "message_id",
            "conversation_id",
            "direction",
            "channel",
            "message_type",
            "body",
            "status",
            "from_number",
            "to_number",
            "created_at",
            "error_code",
        ] {
            assert!(m.get(field).is_some(), "{field} in {m}");
        }
        assert_eq!(m["conversation_id"], id);
        match m["direction"].as_str().unwrap() {
            "inbound" => {
                assert_eq!(m["status"], "received");
                assert_eq!(m["from_number"], full["from_number"]);
            }
            "outbound" => {
                assert!(["queued", "sent", "delivered", "read", "failed"]
                    .contains(&m["status"].as_str().unwrap()));
                assert_eq!(m["to_number"], full["from_number"]);
                assert_eq!(m["error_code"].is_null(), m["status"] != "failed", "{m}");
            }
            other => panic!("direction {other}"),
        }
    }
    for pair in messages.windows(2) {
        assert!(
            ts(&pair[0]["created_at"]) >= ts(&pair[1]["created_at"]),
            "newest first"
        );
    }
    sim.get("/v1/conversations/conv_doesnotexist")
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn messages_page_through_the_whole_thread() {
    let sim = sim().await;
    let conv = sim
        .find_conversation(|c| c.get("next_page_token").is_some())
        .await;
    let id = conv["conversation_id"].as_str().unwrap().to_string();
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/v1/conversations/{id}?page_size=2&page_token={t}"),
            None => format!("/v1/conversations/{id}?page_size=2"),
        };
        let page = sim.get_ok(&path).await;
        all.extend(page["messages"].as_array().unwrap().clone());
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(t) => {
                let cursor = decode_token(t);
                assert_eq!(cursor["conversation_id"], id.as_str());
                assert!(cursor["created_at"].is_string() && cursor["message_id"].is_string());
                token = Some(t.to_string());
            }
            None => break,
        }
    }
    let full = sim
        .get_ok(&format!("/v1/conversations/{id}?page_size=100"))
        .await;
    assert!(full.get("next_page_token").is_none());
    assert_eq!(&all, full["messages"].as_array().unwrap());
    let unique: HashSet<&str> = all
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(unique.len(), all.len());

    // The token belongs to its conversation and page size.
    let first = sim
        .get_ok(&format!("/v1/conversations/{id}?page_size=2"))
        .await;
    let t = first["next_page_token"].as_str().unwrap();
    let other = sim
        .all_conversations("")
        .await
        .into_iter()
        .map(|i| i["conversation_id"].as_str().unwrap().to_string())
        .find(|c| *c != id)
        .unwrap();
    sim.get(&format!(
        "/v1/conversations/{other}?page_size=2&page_token={t}"
    ))
    .await
    .assert_error(400, "INVALID_ARGUMENT");
    sim.get(&format!(
        "/v1/conversations/{id}?page_size=3&page_token={t}"
    ))
    .await
    .assert_error(400, "INVALID_ARGUMENT");
    sim.get(&format!("/v1/conversations/{id}?page_size=0"))
        .await
        .assert_error(400, "INVALID_ARGUMENT");
    sim.get(&format!("/v1/conversations/{id}?page_token=zzz"))
        .await
        .assert_error(400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn patch_is_idempotent_audited_and_streamed() {
    let sim = sim().await;
    let (id, _) = sim.fresh_conversation("sms", "+2348011112222").await;
    let mut stream = sim.stream(&id).await;

    let r = sim.patch_mode(&id, "human").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["changed"], true);
    assert_eq!(r.json["ai_mode"], "human");
    assert_eq!(r.json["conversation_id"], id.as_str());
    assert!(
        r.json.get("messages").is_none(),
        "PATCH answers without messages"
    );
    let event = stream.expect_event("conversation.mode_changed").await;
    let payload = &event.json()["payload"];
    assert_eq!(payload["from_mode"], "ai");
    assert_eq!(payload["to_mode"], "human");
    assert_eq!(payload["actor_user_id"], "usr_demo_operator");
    assert_eq!(event.json()["conversation_id"], id.as_str());

    // Same mode again: changed false, no event, no audit row.
    let again = sim.patch_mode(&id, "human").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json["changed"], false);
    assert_eq!(again.json["ai_mode"], "human");
    let extra = stream.collect_for(Duration::from_millis(300)).await;
    assert!(
        extra
            .iter()
            .all(|f| f.event_type() != "conversation.mode_changed"),
        "{extra:?}"
    );

    let audit = sim
        .control(Method::GET, &format!("/sim/conversations/{id}/audit"), None)
        .await
        .json;
    let rows = audit.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["actor_user_id"], "usr_demo_operator");
    assert_eq!(rows[0]["from_mode"], "ai");
    assert_eq!(rows[0]["to_mode"], "human");
    ts(&rows[0]["timestamp"]);
    assert_eq!(
        sim.get_ok(&format!("/v1/conversations/{id}")).await["mode_history"],
        audit
    );

    // Another operator hands it back.
    let back = into_resp(
        sim.request(Method::PATCH, &format!("/v1/conversations/{id}"))
            .header("X-Voicebip-User", "usr_second_operator")
            .json(&json!({"ai_mode": "ai"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(back.json["changed"], true);
    let event = stream.expect_event("conversation.mode_changed").await;
    assert_eq!(
        event.json()["payload"]["actor_user_id"],
        "usr_second_operator"
    );
    assert_eq!(event.json()["payload"]["to_mode"], "ai");

    let closed = sim.patch_mode(&id, "closed").await;
    assert_eq!(
        (
            closed.json["changed"].as_bool(),
            closed.json["ai_mode"].as_str()
        ),
        (Some(true), Some("closed"))
    );
    stream.expect_event("conversation.mode_changed").await;
    // Closed is terminal.
    sim.patch_mode(&id, "ai")
        .await
        .assert_error(422, "CONVERSATION_CLOSED");
    sim.patch_mode(&id, "human")
        .await
        .assert_error(422, "CONVERSATION_CLOSED");
    let still = sim.patch_mode(&id, "closed").await;
    assert_eq!(still.json["changed"], false);
    let rows = sim.get_ok(&format!("/v1/conversations/{id}")).await["mode_history"].clone();
    let modes: Vec<(&str, &str)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["from_mode"].as_str().unwrap(),
                r["to_mode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        modes,
        vec![("ai", "human"), ("human", "ai"), ("ai", "closed")]
    );
    assert_eq!(rows[1]["actor_user_id"], "usr_second_operator");
}

#[tokio::test]
async fn patch_errors() {
    let sim = sim().await;
    sim.patch_mode("conv_missing", "human")
        .await
        .assert_error(404, "NOT_FOUND");
    let id = sim.all_conversations("").await[0]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    sim.patch_mode(&id, "robot")
        .await
        .assert_error(400, "INVALID_ARGUMENT");
    sim.patch_mode(&id, "AI")
        .await
        .assert_error(400, "INVALID_ARGUMENT");
    let r = sim
        .send_json(
            Method::PATCH,
            &format!("/v1/conversations/{id}"),
            json!({"ai_mode": "human", "note": "x"}),
        )
        .await;
    r.assert_error(400, "INVALID_ARGUMENT");
    let r = sim
        .send_json(
            Method::PATCH,
            &format!("/v1/conversations/{id}"),
            json!({"ai_mode": ["human"]}),
        )
        .await;
    r.assert_error(400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn each_key_has_its_own_stable_actor() {
    let sim = sim_with(voicebip_sim::SimConfig {
        api_keys: vec![KEY.into(), "pk_test_other_operator".into()],
        ..fast_config()
    })
    .await;
    let (id, _) = sim.fresh_conversation("sms", "+2348011113333").await;
    let r = sim
        .http
        .patch(sim.url(&format!("/v1/conversations/{id}")))
        .bearer_auth("pk_test_other_operator")
        .json(&json!({"ai_mode": "human"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rows = sim.get_ok(&format!("/v1/conversations/{id}")).await["mode_history"].clone();
    let actor = rows[0]["actor_user_id"].as_str().unwrap();
    assert!(
        actor.starts_with("usr_") && actor != "usr_demo_operator",
        "{actor}"
    );
}
