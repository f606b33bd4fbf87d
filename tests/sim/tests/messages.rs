//! `POST /v1/messages` and `POST /v1/messages/template`: validation, segments, the opt-out,
//! window and closed rules, and status progression events.

use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

async fn send(sim: &Sim, body: Value) -> Resp {
    sim.send_json(Method::POST, "/v1/messages", body).await
}

fn sms(agent: &Value, to: &str, text: &str) -> Value {
    json!({ "agent_id": agent["agent_id"], "channel": "sms", "from_number": agent["number"],
            "to_number": to, "body": text })
}

fn whatsapp(agent: &Value, to: &str, text: &str) -> Value {
    json!({ "agent_id": agent["agent_id"], "channel": "whatsapp", "from_number": agent["number"],
            "to_number": to, "body": text })
}

fn template(agent: &Value, to: &str) -> Value {
    json!({ "agent_id": agent["agent_id"], "from_number": agent["number"], "to_number": to,
            "template_name": "order_update", "language_code": "en", "parameters": ["VB123", "Friday"] })
}

#[tokio::test]
async fn a_send_is_201_queued_and_threads_onto_the_pair() {
    let sim = sim().await;
    let agent = sim.agent(0).await;
    let r = send(&sim, sms(&agent, "+2348030000001", "Hello from support")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    for field in [
        "message_id",
        "conversation_id",
        "channel",
        "status",
        "from_number",
        "to_number",
        "segments",
        "created_at",
    ] {
        assert!(r.json.get(field).is_some(), "{field}");
    }
    assert!(r.json["message_id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(r.json["status"], "queued");
    assert_eq!(r.json["channel"], "sms");
    assert_eq!(r.json["segments"], 1);
    assert_eq!(r.json["to_number"], "+2348030000001");
    assert_eq!(r.json["from_number"], agent["number"]);
    let conv_id = r.json["conversation_id"].as_str().unwrap().to_string();

    // Keep the AI quiet so the thread holds exactly what this test sends.
    sim.patch_mode(&conv_id, "human").await;
    // The same pair lands on the same conversation, on either channel.
    let again = send(&sim, sms(&agent, "+2348030000001", "Second")).await;
    assert_eq!(again.json["conversation_id"], conv_id.as_str());
    let inbound = sim
        .inbound(
            agent["agent_id"].as_str().unwrap(),
            "whatsapp",
            "+2348030000001",
            "Hi",
        )
        .await;
    assert_eq!(inbound["conversation_id"], conv_id.as_str());

    let conv = sim.get_ok(&format!("/v1/conversations/{conv_id}")).await;
    assert_eq!(conv["from_number"], "+2348030000001");
    assert_eq!(conv["to_number"], agent["number"]);
    let bodies: Vec<&str> = conv["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["Hi", "Second", "Hello from support"]);
}

#[tokio::test]
async fn sms_segments_follow_gsm7_and_ucs2() {
    let sim = sim().await;
    let agent = sim.agent(0).await;
    let cases = [
        ("a".repeat(160), 1),
        ("a".repeat(161), 2),
        ("a".repeat(306), 2),
        ("a".repeat(307), 3),
        ("€".repeat(80), 1), // extension characters count twice
        ("€".repeat(81), 2),
        (format!("{}\u{1ecd}", "a".repeat(69)), 1), // one Yoruba letter: UCS-2, 70 per part
        (format!("{}\u{1ecd}", "a".repeat(70)), 2),
        (format!("{}\u{1ecd}", "a".repeat(134)), 3), // 67 per part
        ("😀".repeat(35), 1),
        ("😀".repeat(36), 2),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let to = format!("+23480400000{i:02}");
        let r = send(&sim, sms(&agent, &to, text)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(
            r.json["segments"],
            *expected,
            "case {i}: {} chars",
            text.chars().count()
        );
    }
}

#[tokio::test]
async fn sends_are_validated() {
    let sim = sim().await;
    let agent = sim.agent(0).await;
    let good = sms(&agent, "+2348030000002", "Hello");
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let cases = vec![
        with("to_number", json!("08030000002")),
        with("to_number", json!("+0803000000")),
        with("to_number", json!("+234 803 000 0002")),
        with("to_number", json!("+12345")),
        with("from_number", json!("not-a-number")),
        with("channel", json!("fax")),
        with("channel", json!("SMS")),
        with("body", json!("")),
        with("body", json!("   ")),
        with("body", json!(42)),
        with("message_type", json!("image")), // not on SMS
        with("media_url", json!("https://example.com/a.jpg")), // nor a file
        with("media_caption", json!("A receipt")),
        with("surprise", json!(true)),
        without("to_number"),
        without("agent_id"),
        without("channel"),
        without("body"),
    ];
    for body in cases {
        let r = send(&sim, body.clone()).await;
        r.assert_error(400, "INVALID_ARGUMENT");
    }
    // An unknown id is NOT_FOUND, as everywhere in the contract.
    send(&sim, with("agent_id", json!("agt_unknown")))
        .await
        .assert_error(404, "NOT_FOUND");
    let image = json!({ "agent_id": agent["agent_id"], "channel": "whatsapp",
                        "from_number": agent["number"], "to_number": "+2348030000002",
                        "message_type": "image" });
    send(&sim, image)
        .await
        .assert_error(400, "INVALID_ARGUMENT");
    assert_eq!(send(&sim, good).await.status, 201);

    // `interactive` (buttons, lists) is text, not a file: it needs no `media_url`.
    let (_, agent) = sim.fresh_conversation("whatsapp", "+2348030000009").await;
    let interactive = json!({ "agent_id": agent["agent_id"], "channel": "whatsapp",
                              "from_number": agent["number"], "to_number": "+2348030000009",
                              "message_type": "interactive", "body": "1) Track 2) Refund" });
    let r = send(&sim, interactive.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // ...and like `text`, it needs one.
    let mut empty = interactive;
    empty["body"] = json!("  ");
    send(&sim, empty)
        .await
        .assert_error(400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn sms_status_goes_queued_sent_delivered_with_events() {
    let sim = sim().await;
    let (id, agent) = sim.fresh_conversation("sms", "+2348030000003").await;
    let mut stream = sim.stream(&id).await;
    // Let the AI's answer to the greeting pass first.
    stream.expect_event("message.delivered").await;

    let r = send(
        &sim,
        sms(&agent, "+2348030000003", "Your order is on the way"),
    )
    .await;
    let message_id = r.json["message_id"].as_str().unwrap().to_string();
    let sent = stream.expect_event("message.sent").await.json();
    assert_eq!(sent["payload"]["message_id"], message_id.as_str());
    assert_eq!(sent["payload"]["status"], "sent");
    assert_eq!(sent["payload"]["direction"], "outbound");
    assert_eq!(sent["payload"]["text"], "Your order is on the way");
    assert_eq!(sent["payload"]["body"], "Your order is on the way");
    let delivered = stream.expect_event("message.delivered").await.json();
    assert_eq!(delivered["payload"]["message_id"], message_id.as_str());
    assert_eq!(delivered["payload"]["status"], "delivered");
    // SMS has no read receipts.
    let later = stream.collect_for(Duration::from_millis(300)).await;
    assert!(later.iter().all(|f| f.event_type() != "message.read"));
    let conv = sim.get_ok(&format!("/v1/conversations/{id}")).await;
    let stored = conv["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message_id"] == message_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(stored["status"], "delivered");
    assert!(stored["error_code"].is_null());
}

#[tokio::test]
async fn whatsapp_status_reaches_read() {
    let sim = sim().await;
    let (id, agent) = sim.fresh_conversation("whatsapp", "+2348030000004").await;
    sim.patch_mode(&id, "human").await;
    let mut stream = sim.stream(&id).await;
    let r = send(&sim, whatsapp(&agent, "+2348030000004", "Hi, checking now")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["segments"], 1);
    let message_id = r.json["message_id"].as_str().unwrap();
    let mut statuses = Vec::new();
    for event in ["message.sent", "message.delivered", "message.read"] {
        let frame = stream.expect_event(event).await.json();
        assert_eq!(frame["payload"]["message_id"], message_id);
        statuses.push(frame["payload"]["status"].as_str().unwrap().to_string());
    }
    assert_eq!(statuses, ["sent", "delivered", "read"]);
    let conv = sim
        .get_ok(&format!("/v1/conversations/{id}?page_size=1"))
        .await;
    assert_eq!(conv["messages"][0]["status"], "read");
}

#[tokio::test]
async fn a_body_containing_fail_fails_with_an_error_code() {
    let sim = sim().await;
    let (id, agent) = sim.fresh_conversation("sms", "+2348030000005").await;
    sim.patch_mode(&id, "human").await;
    let mut stream = sim.stream(&id).await;
    let r = send(&sim, sms(&agent, "+2348030000005", "This will FAIL")).await;
    assert_eq!(r.status, 201);
    stream.expect_event("message.sent").await;
    let failed = stream.expect_event("message.failed").await.json();
    assert_eq!(failed["payload"]["status"], "failed");
    assert!(failed["payload"]["error_code"]
        .as_str()
        .is_some_and(|c| !c.is_empty()));
    let later = stream.collect_for(Duration::from_millis(200)).await;
    assert!(later.iter().all(|f| f.event_type() != "message.delivered"));
    let conv = sim
        .get_ok(&format!("/v1/conversations/{id}?page_size=1"))
        .await;
    assert_eq!(conv["messages"][0]["status"], "failed");
    assert_eq!(
        conv["messages"][0]["error_code"],
        failed["payload"]["error_code"]
    );
}

#[tokio::test]
async fn opted_out_recipients_are_refused_until_they_opt_back_in() {
    let sim = sim().await;
    let (id, agent) = sim.fresh_conversation("sms", "+2348030000006").await;
    let agent_id = agent["agent_id"].as_str().unwrap();
    sim.inbound(agent_id, "sms", "+2348030000006", "STOP").await;
    let conv = sim.get_ok(&format!("/v1/conversations/{id}")).await;
    assert_eq!(conv["opt_out"], true);
    send(&sim, sms(&agent, "+2348030000006", "Are you there?"))
        .await
        .assert_error(422, "RECIPIENT_OPTED_OUT");
    sim.send_json(
        Method::POST,
        "/v1/messages/template",
        template(&agent, "+2348030000006"),
    )
    .await
    .assert_error(422, "RECIPIENT_OPTED_OUT");
    sim.inbound(agent_id, "sms", "+2348030000006", "start")
        .await;
    assert_eq!(
        sim.get_ok(&format!("/v1/conversations/{id}")).await["opt_out"],
        false
    );
    assert_eq!(
        send(&sim, sms(&agent, "+2348030000006", "Welcome back"))
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn the_whatsapp_window_outlives_a_closed_conversation() {
    let sim = sim().await;
    let customer = "+2348030000017";
    let (id, agent) = sim.fresh_conversation("whatsapp", customer).await;
    assert_eq!(sim.patch_mode(&id, "closed").await.status, 200);
    // The customer writes again, by SMS this time: a new conversation, and the window their
    // WhatsApp message opened a moment ago is still theirs.
    let agent_id = agent["agent_id"].as_str().unwrap_or_default();
    let again = sim.inbound(agent_id, "sms", customer, "Me again").await;
    let newer = again["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_ne!(newer, id);
    let r = send(&sim, whatsapp(&agent, customer, "Within the window")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["conversation_id"], newer.as_str());
}

#[tokio::test]
async fn whatsapp_free_form_needs_an_open_window_and_templates_bypass_it() {
    let sim = sim().await;
    let (id, agent) = sim.fresh_conversation("whatsapp", "+2348030000007").await;
    let customer = "+2348030000007";
    assert_eq!(
        send(&sim, whatsapp(&agent, customer, "Inside the window"))
            .await
            .status,
        201
    );

    let r = sim
        .control(
            Method::POST,
            &format!("/sim/conversations/{id}/window"),
            Some(json!({"expired": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    send(&sim, whatsapp(&agent, customer, "Too late"))
        .await
        .assert_error(422, "WINDOW_CLOSED");
    // SMS to the same customer is not bound by the WhatsApp window.
    assert_eq!(
        send(&sim, sms(&agent, customer, "By SMS")).await.status,
        201
    );

    let t = sim
        .send_json(
            Method::POST,
            "/v1/messages/template",
            template(&agent, customer),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.text);
    assert_eq!(t.json["conversation_id"], id.as_str());
    assert_eq!(t.json["channel"], "whatsapp");
    assert_eq!(t.json["status"], "queued");

    // The customer writing again opens a new 24-hour window.
    sim.inbound_to(&id, "Thanks").await;
    let conv = sim.get_ok(&format!("/v1/conversations/{id}")).await;
    let expires =
        chrono::DateTime::parse_from_rfc3339(conv["window_expires_at"].as_str().unwrap()).unwrap();
    let hours =
        (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.1).contains(&hours), "{hours}");
    assert_eq!(
        send(&sim, whatsapp(&agent, customer, "Back in the window"))
            .await
            .status,
        201
    );

    // A customer who never wrote: no window, template only.
    send(&sim, whatsapp(&agent, "+2348030000070", "Cold message"))
        .await
        .assert_error(422, "WINDOW_CLOSED");
    let cold = sim
        .send_json(
            Method::POST,
            "/v1/messages/template",
            template(&agent, "+2348030000070"),
        )
        .await;
    assert_eq!(cold.status, 201);
}

#[tokio::test]
async fn sends_into_a_closed_conversation_are_refused() {
    let sim = sim().await;
    let (id, agent) = sim.fresh_conversation("sms", "+2348030000008").await;
    sim.patch_mode(&id, "closed").await;
    send(&sim, sms(&agent, "+2348030000008", "Hello?"))
        .await
        .assert_error(422, "CONVERSATION_CLOSED");
    sim.send_json(
        Method::POST,
        "/v1/messages/template",
        template(&agent, "+2348030000008"),
    )
    .await
    .assert_error(422, "CONVERSATION_CLOSED");
}

#[tokio::test]
async fn templates_are_validated() {
    let sim = sim().await;
    let agent = sim.agent(0).await;
    let good = template(&agent, "+2348030000009");
    for (key, value) in [
        ("template_name", json!("")),
        ("template_name", Value::Null),
        ("language_code", json!("  ")),
        ("to_number", json!("12345")),
        ("parameters", json!("not a list")),
        ("extra", json!(1)),
        // Not in the contract's body: templates are WhatsApp's.
        ("channel", json!("sms")),
    ] {
        let mut body = good.clone();
        body[key] = value;
        sim.send_json(Method::POST, "/v1/messages/template", body)
            .await
            .assert_error(400, "INVALID_ARGUMENT");
    }
    let mut nobody = good.clone();
    nobody["agent_id"] = json!("agt_nobody");
    sim.send_json(Method::POST, "/v1/messages/template", nobody)
        .await
        .assert_error(404, "NOT_FOUND");
    let ok = sim
        .send_json(Method::POST, "/v1/messages/template", good)
        .await;
    assert_eq!(ok.status, 201);
    let conv = sim
        .get_ok(&format!(
            "/v1/conversations/{}",
            ok.json["conversation_id"].as_str().unwrap()
        ))
        .await;
    let body = conv["messages"][0]["body"].as_str().unwrap();
    assert!(
        body.contains("order_update") && body.contains("VB123"),
        "{body}"
    );
}
