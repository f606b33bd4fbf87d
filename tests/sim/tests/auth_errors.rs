//! Authentication, the error shape, request validation, body limits, CORS and rate limiting.

use crate::common::*;
use reqwest::Method;
use serde_json::json;
use voicebip_sim::SimConfig;

#[tokio::test]
async fn missing_wrong_and_malformed_keys_are_401() {
    let sim = sim().await;
    let url = sim.url("/v1/conversations");
    let missing = into_resp(sim.http.get(&url).send().await.unwrap()).await;
    missing.assert_error(401, "UNAUTHENTICATED");
    let wrong = into_resp(
        sim.http
            .get(&url)
            .bearer_auth("pk_test_nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    wrong.assert_error(401, "UNAUTHENTICATED");
    let malformed = into_resp(
        sim.http
            .get(&url)
            .header("Authorization", format!("Token {KEY}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    malformed.assert_error(401, "UNAUTHENTICATED");
    // A key without the pk_live_ / pk_test_ prefix is malformed, whatever it is.
    let unprefixed = into_resp(
        sim.http
            .get(&url)
            .bearer_auth("sk_test_demo")
            .send()
            .await
            .unwrap(),
    )
    .await;
    unprefixed.assert_error(401, "UNAUTHENTICATED");
    assert!(unprefixed.text.contains("pk_live_"), "{}", unprefixed.text);
    let ok = into_resp(sim.http.get(&url).bearer_auth(KEY).send().await.unwrap()).await;
    assert_eq!(ok.status, 200);
    // The scheme is case-insensitive.
    let lower = into_resp(
        sim.http
            .get(&url)
            .header("Authorization", format!("bearer {KEY}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(lower.status, 200);
}

#[tokio::test]
async fn query_token_is_refused_outside_the_stream_path_even_when_valid() {
    let sim = sim().await;
    let id = sim.all_conversations("").await[0]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    for path in [
        format!("/v1/conversations?token={KEY}"),
        format!("/v1/conversations/{id}?token={KEY}"),
        format!("/v1/agents/x/conversations/export?token={KEY}"),
    ] {
        let r = into_resp(sim.http.get(sim.url(&path)).send().await.unwrap()).await;
        r.assert_error(401, "UNAUTHENTICATED");
        // Also with a valid Bearer: a key in the URL is refused outright.
        let r = sim.get(&path).await;
        r.assert_error(401, "UNAUTHENTICATED");
    }
    let patch = into_resp(
        sim.http
            .patch(sim.url(&format!("/v1/conversations/{id}?token={KEY}")))
            .json(&json!({"ai_mode": "human"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    patch.assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_key_under_any_other_name_in_the_url_is_refused_and_never_logged() {
    let sim = sim().await;
    let id = sim.all_conversations("").await[0]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    sim.control(Method::DELETE, "/sim/requests", None).await;
    let encoded = KEY.replace('_', "%5F");
    for path in [
        format!("/v1/conversations?api_key={KEY}"),
        format!("/v1/conversations?%74oken={KEY}"),
        format!("/v1/conversations/{id}?page_size=5&key={encoded}"),
        format!("/v1/conversations/{id}/stream?token={KEY}&again={KEY}"),
    ] {
        // With a valid Bearer too: the key in the URL is the leak.
        sim.get(&path).await.assert_error(401, "UNAUTHENTICATED");
    }
    let log = sim.control(Method::GET, "/sim/requests", None).await;
    assert!(
        !log.text.contains(KEY) && !log.text.contains(&encoded),
        "{}",
        log.text
    );
    assert_eq!(log.json.as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn stream_accepts_query_token_and_bearer_but_not_bad_keys() {
    let sim = sim().await;
    let id = sim.all_conversations("").await[0]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/conversations/{id}/stream");
    let with_token = sim
        .http
        .get(sim.url(&format!("{path}?token={KEY}")))
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 200);
    assert_eq!(
        with_token.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let with_bearer = sim.request(Method::GET, &path).send().await.unwrap();
    assert_eq!(with_bearer.status(), 200);
    let bad = into_resp(
        sim.http
            .get(sim.url(&format!("{path}?token=pk_test_wrong")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    bad.assert_error(401, "UNAUTHENTICATED");
    let none = into_resp(sim.http.get(sim.url(&path)).send().await.unwrap()).await;
    none.assert_error(401, "UNAUTHENTICATED");
    // Percent-encoded keys are decoded.
    let encoded = sim
        .http
        .get(sim.url(&format!("{path}?token=pk%5Ftest%5Fdemo%5Fvoicebip")))
        .send()
        .await
        .unwrap();
    assert_eq!(encoded.status(), 200);
}

#[tokio::test]
async fn every_configured_key_is_accepted() {
    let sim = sim_with(SimConfig {
        api_keys: vec!["pk_live_one".into(), "pk_test_two".into()],
        ..fast_config()
    })
    .await;
    for key in ["pk_live_one", "pk_test_two"] {
        let r = sim
            .http
            .get(sim.url("/v1/conversations"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{key}");
    }
    // The demo key is not accepted when other keys are configured.
    sim.get("/v1/conversations")
        .await
        .assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn bodies_that_are_not_the_right_json_are_400() {
    let sim = sim().await;
    let id = sim.all_conversations("").await[0]["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/conversations/{id}");
    let before = sim.get_ok(&path).await;
    let raw = |body: &'static str, content_type: Option<&'static str>| {
        let mut req = sim.request(Method::PATCH, &path).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req
    };
    for (body, ct) in [
        ("{\"ai_mode\": ", Some("application/json")), // malformed
        ("{\"ai_mode\": 5}", Some("application/json")), // wrong type
        ("{\"ai_mode\": \"robot\"}", Some("application/json")), // unknown enum value
        (
            "{\"ai_mode\": \"human\", \"x\": 1}",
            Some("application/json"),
        ), // unknown field
        ("{}", Some("application/json")),             // missing field
        ("[]", Some("application/json")),             // not an object
        ("{\"ai_mode\": null}", Some("application/json")), // null
        ("{\"ai_mode\": \"human\"}", None),           // no content type
        ("{\"ai_mode\": \"human\"}", Some("text/plain")), // wrong content type
    ] {
        let r = into_resp(raw(body, ct).send().await.unwrap()).await;
        r.assert_error(400, "INVALID_ARGUMENT");
    }
    // Nothing changed.
    let after = sim.get_ok(&path).await;
    assert_eq!(before["ai_mode"], after["ai_mode"]);
    assert_eq!(before["mode_history"], after["mode_history"]);
    let messages = sim
        .send_json(Method::POST, "/v1/messages", json!({"agent_id": 1}))
        .await;
    messages.assert_error(400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn bodies_over_64_kib_are_413() {
    let sim = sim().await;
    let huge = json!({ "agent_id": "a", "channel": "sms", "from_number": "+2348000000000",
                       "to_number": "+2348000000001", "body": "x".repeat(70 * 1024) });
    let r = sim
        .send_json(Method::POST, "/v1/messages", huge.clone())
        .await;
    r.assert_error(413, "PAYLOAD_TOO_LARGE");
    // Without a key it is a 401 first, whatever its size (API.md: a missing key is a 401).
    let anonymous = into_resp(
        sim.http
            .post(sim.url("/v1/messages"))
            .json(&huge)
            .send()
            .await
            .unwrap(),
    )
    .await;
    anonymous.assert_error(401, "UNAUTHENTICATED");
    // Without a Content-Length (chunked), the limit still holds.
    let bytes = serde_json::to_vec(&huge).unwrap();
    let stream = futures_util::stream::iter(
        bytes
            .chunks(8192)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let r = into_resp(
        sim.request(Method::POST, "/v1/messages")
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(413, "PAYLOAD_TOO_LARGE");
    // Just under the limit is not refused for size.
    let small = json!({ "agent_id": "a", "channel": "sms", "from_number": "+2348000000000",
                        "to_number": "+2348000000001", "body": "x".repeat(60 * 1024) });
    let r = sim.send_json(Method::POST, "/v1/messages", small).await;
    r.assert_error(404, "NOT_FOUND"); // unknown agent, not 413
}

#[tokio::test]
async fn unknown_routes_and_methods_use_the_error_shape() {
    let sim = sim().await;
    sim.get("/v1/nothing/here")
        .await
        .assert_error(404, "NOT_FOUND");
    sim.get("/v1/conversations/conv_missing")
        .await
        .assert_error(404, "NOT_FOUND");
    let r = into_resp(
        sim.request(Method::DELETE, "/v1/conversations")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(405, "METHOD_NOT_ALLOWED");
    assert!(r.header("allow").is_some_and(|a| a.contains("GET")));
    let r = into_resp(
        sim.request(Method::PUT, "/v1/messages")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_error(405, "METHOD_NOT_ALLOWED");
    sim.control(Method::GET, "/sim/nope", None)
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn request_ids_are_unique_and_on_every_v1_response() {
    let sim = sim().await;
    let a = sim.get("/v1/conversations").await;
    let b = sim.get("/v1/conversations").await;
    let (a, b) = (
        a.header("x-request-id").unwrap(),
        b.header("x-request-id").unwrap(),
    );
    assert!(a.starts_with("req_") && b.starts_with("req_"));
    assert_ne!(a, b);
    // A change, a send and the stream carry theirs too.
    let (id, agent) = sim.fresh_conversation("whatsapp", "+2348030001234").await;
    let patched = sim.patch_mode(&id, "human").await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let sent = sim
        .send_json(
            Method::POST,
            "/v1/messages",
            json!({ "agent_id": agent["agent_id"], "channel": "whatsapp",
                "from_number": agent["number"], "to_number": "+2348030001234", "body": "Hi" }),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    let stream = sim
        .http
        .get(sim.url(&format!("/v1/conversations/{id}/stream?token={KEY}")))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let stream_id = stream
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    for (what, id) in [
        ("PATCH", patched.header("x-request-id")),
        ("POST", sent.header("x-request-id")),
        ("stream", stream_id.as_deref()),
    ] {
        assert!(
            id.is_some_and(|id| id.starts_with("req_")),
            "{what}: {id:?}"
        );
    }
}

#[tokio::test]
async fn cors_preflight_needs_no_key_and_responses_carry_cors_headers() {
    let sim = sim().await;
    let preflight = sim
        .http
        .request(Method::OPTIONS, sim.url("/v1/conversations/conv_x"))
        .header("Origin", "http://localhost:9999")
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    for m in ["GET", "POST", "PATCH", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));

    let r = sim
        .http
        .get(sim.url("/v1/conversations"))
        .header("Origin", "http://localhost:9999")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("retry-after") && exposed.contains("x-request-id"));
}

#[tokio::test]
async fn rate_limit_is_429_with_retry_after_for_the_whole_workspace() {
    let sim = sim_with(SimConfig {
        rate_limit_per_minute: 5,
        api_keys: vec![KEY.into(), "pk_test_second".into()],
        ..fast_config()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(sim.get("/v1/conversations").await.status, 200);
    }
    // A second key shares the workspace's budget.
    for _ in 0..2 {
        let r = sim
            .http
            .get(sim.url("/v1/conversations"))
            .bearer_auth("pk_test_second")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let limited = sim.get("/v1/conversations").await;
    limited.assert_error(429, "RATE_LIMITED");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(limited.headers.get("x-ratelimit-limit").is_none());
    // A new budget (set at run time) lets requests through again.
    sim.control(
        Method::POST,
        "/sim/settings",
        Some(json!({"rate_limit_per_minute": 100})),
    )
    .await;
    assert_eq!(sim.get("/v1/conversations").await.status, 200);
}
