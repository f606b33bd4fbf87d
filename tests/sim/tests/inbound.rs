//! Inbound messages: threading, closed → new conversation, opt-out keywords, WhatsApp windows,
//! the hosted-AI stand-in, and window.closing.

use crate::common::*;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn an_inbound_after_closed_starts_a_new_conversation() {
    let sim = sim().await;
    let (old, agent) = sim.fresh_conversation("sms", "+2348050000001").await;
    let agent_id = agent["agent_id"].as_str().unwrap();
    let again = sim
        .inbound(agent_id, "sms", "+2348050000001", "Still me")
        .await;
    assert_eq!(again["conversation_id"], old.as_str());
    assert_eq!(again["new_conversation"], false);

    sim.patch_mode(&old, "closed").await;
    let next = sim
        .inbound(agent_id, "sms", "+2348050000001", "Hello again")
        .await;
    let new = next["conversation_id"].as_str().unwrap();
    assert_ne!(new, old);
    assert!(new.starts_with("conv_"));
    assert_eq!(next["new_conversation"], true);

    let fresh = sim.get_ok(&format!("/v1/conversations/{new}")).await;
    assert_eq!(fresh["ai_mode"], "ai");
    assert_eq!(sim.inbound_message(&next).await["body"], "Hello again");
    assert_eq!(fresh["mode_history"], json!([]));
    let closed = sim.get_ok(&format!("/v1/conversations/{old}")).await;
    assert_eq!(closed["ai_mode"], "closed");
    assert!(closed["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["body"] != "Hello again"));

    // Aimed at the closed conversation itself, an inbound also goes to the new one.
    let via_id = sim.inbound_to(&old, "And again").await;
    assert_eq!(via_id["conversation_id"], new);
    // Sends now thread onto the new conversation.
    let send = sim
        .send_json(
            Method::POST,
            "/v1/messages",
            json!({
            "agent_id": agent_id, "channel": "sms", "from_number": agent["number"],
            "to_number": "+2348050000001", "body": "Hi!" }),
        )
        .await;
    assert_eq!(send.json["conversation_id"], new);
}

#[tokio::test]
async fn opt_out_and_opt_in_keywords_in_any_case() {
    let sim = sim().await;
    let (id, agent) = sim.fresh_conversation("sms", "+2348050000002").await;
    let agent_id = agent["agent_id"].as_str().unwrap();
    let opt_out =
        || async { sim.get_ok(&format!("/v1/conversations/{id}")).await["opt_out"].clone() };
    for (stop, start) in [
        ("STOP", "START"),
        ("unsubscribe", "subscribe"),
        ("Cancel", "Start"),
        ("end", "SUBSCRIBE"),
        ("QuIt", "start"),
    ] {
        sim.inbound(agent_id, "sms", "+2348050000002", stop).await;
        assert_eq!(opt_out().await, true, "{stop}");
        sim.inbound(agent_id, "sms", "+2348050000002", start).await;
        assert_eq!(opt_out().await, false, "{start}");
    }
    sim.inbound(
        agent_id,
        "sms",
        "+2348050000002",
        "please stop sending me the promo",
    )
    .await;
    assert_eq!(opt_out().await, false, "only the bare keyword counts");
    // Opt-out is the same in the list item.
    sim.inbound(agent_id, "sms", "+2348050000002", "stop").await;
    let item = sim
        .all_conversations("")
        .await
        .into_iter()
        .find(|i| i["conversation_id"] == id.as_str())
        .unwrap();
    assert_eq!(item["opt_out"], true);
}

/// How long the conversation's window runs after the message an inbound made.
async fn window_after(sim: &Sim, inbound: &serde_json::Value) -> chrono::Duration {
    let id = inbound["conversation_id"].as_str().unwrap();
    let conv = sim.get_ok(&format!("/v1/conversations/{id}")).await;
    let at =
        |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    at(&conv["window_expires_at"]) - at(&sim.inbound_message(inbound).await["created_at"])
}

#[tokio::test]
async fn whatsapp_inbound_sets_the_window_to_24_hours() {
    let sim = sim().await;
    let agent_id = sim.agent_id(1).await;
    let r = sim
        .inbound(&agent_id, "whatsapp", "+2348050000003", "Hi")
        .await;
    let id = r["conversation_id"].as_str().unwrap();
    assert_eq!(
        sim.get_ok(&format!("/v1/conversations/{id}")).await["channel"],
        "whatsapp"
    );
    assert_eq!(window_after(&sim, &r).await, chrono::Duration::hours(24));
    // With the clock set back an hour, the next message still comes after the newest one
    // (its time is not the clock's): the window is 24 hours from that message's time.
    sim.control(
        Method::POST,
        "/sim/clock",
        Some(json!({"advance_seconds": -3600})),
    )
    .await;
    let again = sim.inbound_to(id, "Hi again").await;
    assert_eq!(
        window_after(&sim, &again).await,
        chrono::Duration::hours(24)
    );
    // An SMS conversation reports no window.
    let r = sim.inbound(&agent_id, "sms", "+2348050000004", "Hi").await;
    let conv = sim
        .get_ok(&format!(
            "/v1/conversations/{}",
            r["conversation_id"].as_str().unwrap()
        ))
        .await;
    assert!(conv["window_expires_at"].is_null());
}

#[tokio::test]
async fn the_ai_answers_in_ai_mode_and_stays_silent_in_human_mode() {
    let sim = sim_with(voicebip_sim::SimConfig {
        ai_reply_delay: Duration::from_millis(300),
        ..fast_config()
    })
    .await;
    let (id, agent) = sim.fresh_conversation("whatsapp", "+2348050000005").await;
    let mut stream = sim.stream(&id).await;
    // The answer to the greeting first.
    stream.expect_event("message.read").await;
    let started = Instant::now();
    sim.inbound_to(&id, "Where is my order?").await;
    let received = stream.expect_event("message.received").await.json();
    assert_eq!(received["payload"]["direction"], "inbound");
    assert_eq!(received["payload"]["text"], "Where is my order?");
    assert_eq!(received["payload"]["body"], "Where is my order?");
    assert_eq!(received["payload"]["status"], "received");
    assert_eq!(received["payload"]["channel"], "whatsapp");
    let reply = stream.expect_event("message.sent").await.json();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the AI waits ai_reply_delay"
    );
    assert_eq!(reply["payload"]["direction"], "outbound");
    assert_eq!(reply["payload"]["from_number"], agent["number"]);
    assert!(reply["payload"]["text"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("order"));
    stream.expect_event("message.read").await;

    sim.patch_mode(&id, "human").await;
    stream.expect_event("conversation.mode_changed").await;
    sim.inbound_to(&id, "Hello? Anyone?").await;
    stream.expect_event("message.received").await;
    let quiet = stream.collect_for(Duration::from_millis(900)).await;
    assert!(
        quiet
            .iter()
            .all(|f| f.json()["payload"]["direction"] != "outbound"),
        "{quiet:?}"
    );

    sim.patch_mode(&id, "ai").await;
    sim.inbound_to(&id, "ok").await;
    stream.expect_event("message.received").await;
    let reply = stream.expect_event("message.sent").await.json();
    assert_eq!(reply["payload"]["direction"], "outbound");
}

#[tokio::test]
async fn the_ai_does_not_answer_if_an_operator_takes_over_meanwhile() {
    let sim = sim_with(voicebip_sim::SimConfig {
        ai_reply_delay: Duration::from_millis(400),
        ..fast_config()
    })
    .await;
    let (id, _) = sim.fresh_conversation("sms", "+2348050000006").await;
    // Let the greeting's reply go out first.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut stream = sim.stream(&id).await;
    sim.inbound_to(&id, "I need a refund").await;
    sim.patch_mode(&id, "human").await;
    let frames = stream.collect_for(Duration::from_millis(900)).await;
    // The stream did carry the inbound and the take-over, so no reply among them means none.
    let types: Vec<String> = frames.iter().map(|f| f.event_type()).collect();
    assert!(
        types.iter().any(|t| t == "message.received")
            && types.iter().any(|t| t == "conversation.mode_changed"),
        "{types:?}"
    );
    assert!(
        frames
            .iter()
            .all(|f| f.json()["payload"]["direction"] != "outbound"),
        "{frames:?}"
    );
}

#[tokio::test]
async fn window_closing_is_published_an_hour_before_expiry_once() {
    let sim = sim().await;
    let (id, _) = sim.fresh_conversation("whatsapp", "+2348050000007").await;
    sim.patch_mode(&id, "human").await;
    let mut stream = sim.stream(&id).await;
    let r = sim
        .control(
            Method::POST,
            "/sim/clock",
            Some(json!({"advance_seconds": 22 * 3600})),
        )
        .await;
    assert_eq!(r.status, 200);
    let early = stream.collect_for(Duration::from_millis(300)).await;
    assert!(early.iter().all(|f| f.event_type() != "window.closing"));

    sim.control(
        Method::POST,
        "/sim/clock",
        Some(json!({"advance_seconds": 3600 + 60})),
    )
    .await;
    let closing = stream.expect_event("window.closing").await.json();
    assert_eq!(closing["conversation_id"], id.as_str());
    assert!(closing["payload"]["window_expires_at"].is_string());

    sim.control(
        Method::POST,
        "/sim/clock",
        Some(json!({"advance_seconds": 60})),
    )
    .await;
    let again = stream.collect_for(Duration::from_millis(1300)).await;
    assert!(
        again.iter().all(|f| f.event_type() != "window.closing"),
        "only once"
    );
}

#[tokio::test]
async fn setting_a_window_that_closes_soon_announces_it() {
    let sim = sim().await;
    let (id, _) = sim.fresh_conversation("whatsapp", "+2348050000008").await;
    sim.patch_mode(&id, "human").await;
    let mut stream = sim.stream(&id).await;
    let clock = sim.control(Method::GET, "/sim/clock", None).await.json;
    let now = chrono::DateTime::parse_from_rfc3339(clock["now"].as_str().unwrap()).unwrap();
    let soon = (now + chrono::Duration::minutes(30)).to_rfc3339();
    let r = sim
        .control(
            Method::POST,
            &format!("/sim/conversations/{id}/window"),
            Some(json!({"expires_at": soon})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let closing = stream.expect_event("window.closing").await.json();
    let minutes = closing["payload"]["minutes_remaining"].as_i64().unwrap();
    assert!((29..=30).contains(&minutes), "{minutes}");
}

#[tokio::test]
async fn sim_inbound_validates_its_input() {
    let sim = sim().await;
    let agent_id = sim.agent_id(0).await;
    let post = |body: serde_json::Value| sim.control(Method::POST, "/sim/inbound", Some(body));
    post(json!({"body": "hi"}))
        .await
        .assert_error(400, "INVALID_ARGUMENT");
    post(json!({"agent_id": agent_id, "channel": "sms", "body": "hi"}))
        .await
        .assert_error(400, "INVALID_ARGUMENT");
    post(json!({"agent_id": agent_id, "channel": "sms", "from_number": "0803", "body": "hi"}))
        .await
        .assert_error(400, "INVALID_ARGUMENT");
    post(json!({"agent_id": agent_id, "channel": "fax", "from_number": "+2348050000009", "body": "hi"}))
        .await.assert_error(400, "INVALID_ARGUMENT");
    post(json!({"agent_id": "agt_nobody", "channel": "sms", "from_number": "+2348050000009", "body": "hi"}))
        .await.assert_error(404, "NOT_FOUND");
    post(json!({"conversation_id": "conv_nobody", "body": "hi"}))
        .await
        .assert_error(404, "NOT_FOUND");
    post(json!({"conversation_id": "conv_nobody", "body": ""}))
        .await
        .assert_error(400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn an_ai_reply_made_in_the_same_millisecond_is_still_newer_than_the_question() {
    // Without a delay the AI's reply is often stored in the millisecond of the question; the
    // history must still list it above the question it answers, however the ids compare.
    let sim = sim_with(voicebip_sim::SimConfig {
        ai_reply_delay: Duration::ZERO,
        ..fast_config()
    })
    .await;
    let (id, _) = sim.fresh_conversation("sms", "+2348050000031").await;
    const ROUNDS: usize = 16;
    // Round 0 is the greeting's; each waits for the AI's reply before the next question.
    for round in 0..=ROUNDS {
        if round > 0 {
            sim.inbound_to(&id, &format!("Where is my order {round}?"))
                .await;
        }
        let want = 2 * (round + 1);
        let started = Instant::now();
        loop {
            let conv = sim
                .get_ok(&format!("/v1/conversations/{id}?page_size=100"))
                .await;
            if conv["messages"].as_array().unwrap().len() >= want {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(5), "no reply");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let conv = sim
        .get_ok(&format!("/v1/conversations/{id}?page_size=100"))
        .await;
    let messages = conv["messages"].as_array().unwrap();
    let directions: Vec<&str> = messages
        .iter()
        .map(|m| m["direction"].as_str().unwrap())
        .collect();
    // Newest first: each reply directly above its question.
    let expected: Vec<&str> = ["outbound", "inbound"]
        .into_iter()
        .cycle()
        .take(2 * (ROUNDS + 1))
        .collect();
    assert_eq!(directions, expected);
    let times: Vec<_> = messages
        .iter()
        .map(|m| chrono::DateTime::parse_from_rfc3339(m["created_at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] > w[1]),
        "times strictly decrease, newest first: {times:?}"
    );
}
