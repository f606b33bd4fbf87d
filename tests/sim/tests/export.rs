//! `GET /v1/agents/{agent_id}/conversations/export?format=csv|json`.

use crate::common::*;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

/// A strict RFC 4180 reader: CRLF record ends, quoted fields with doubled quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(field.is_empty(), "quote inside an unquoted field");
                quoted = true;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR must be followed by LF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            '\n' => panic!("bare LF: records end with CRLF"),
            other => field.push(other),
        }
    }
    assert!(!quoted, "unterminated quote");
    assert!(
        field.is_empty() && record.is_empty(),
        "last record must end with CRLF"
    );
    records
}

fn cell(item: &Value, column: &str) -> String {
    match &item[column] {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn export(sim: &Sim, agent_id: &str, query: &str) -> (Resp, usize) {
    let response = sim
        .request(
            Method::GET,
            &format!("/v1/agents/{agent_id}/conversations/export{query}"),
        )
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    let mut chunks = 0;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.unwrap());
        chunks += 1;
    }
    let text = String::from_utf8(body).unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (
        Resp {
            status,
            headers,
            text,
            json,
        },
        chunks,
    )
}

#[tokio::test]
async fn csv_export_has_the_list_fields_in_list_order_with_crlf_records() {
    let sim = sim().await;
    let agent_id = sim.agent_id(0).await;
    let listed = sim
        .all_conversations(&format!("&agent_id={agent_id}"))
        .await;
    let (r, _) = export(&sim, &agent_id, "?format=csv").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let disposition = r.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains("filename=")
            && disposition.contains(".csv"),
        "{disposition}"
    );
    let records = parse_csv(&r.text);
    assert_eq!(records[0], LIST_ITEM_FIELDS);
    assert_eq!(records.len() - 1, listed.len());
    for (record, item) in records[1..].iter().zip(&listed) {
        let expected: Vec<String> = LIST_ITEM_FIELDS.iter().map(|c| cell(item, c)).collect();
        assert_eq!(record, &expected);
    }
    // Booleans and nulls as plain text.
    assert!(records[1..]
        .iter()
        .all(|r| r[6] == "true" || r[6] == "false"));
    assert!(records[1..]
        .iter()
        .any(|r| r[2] == "sms" && r[5].is_empty()));
}

#[tokio::test]
async fn json_export_is_the_list_items() {
    let sim = sim().await;
    let agent_id = sim.agent_id(1).await;
    let listed = sim
        .all_conversations(&format!("&agent_id={agent_id}"))
        .await;
    let (r, _) = export(&sim, &agent_id, "?format=json").await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert!(r.header("content-disposition").unwrap().contains(".json"));
    assert_eq!(r.json["conversations"], Value::Array(listed));
}

#[tokio::test]
async fn export_errors() {
    let sim = sim().await;
    let agent_id = sim.agent_id(0).await;
    let (r, _) = export(&sim, &agent_id, "?format=xml").await;
    r.assert_error(400, "INVALID_ARGUMENT");
    let (r, _) = export(&sim, "agt_nobody", "?format=csv").await;
    r.assert_error(404, "NOT_FOUND");
    for absent in ["", "?format="] {
        let (r, _) = export(&sim, &agent_id, absent).await;
        assert_eq!(r.status, 200, "csv by default ({absent:?})");
        assert!(r.text.starts_with("conversation_id,"));
    }
    let unauthenticated = into_resp(
        sim.http
            .get(sim.url(&format!(
                "/v1/agents/{agent_id}/conversations/export?format=csv"
            )))
            .send()
            .await
            .unwrap(),
    )
    .await;
    unauthenticated.assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn export_streams_at_most_the_10000_most_recent() {
    let sim = sim().await;
    let agent_id = sim.agent_id(2).await;
    let r = sim
        .control(
            Method::POST,
            "/sim/bulk",
            Some(json!({"agent_id": agent_id, "count": 10_050})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let newest = r.json["last_conversation_id"].as_str().unwrap().to_string();
    let oldest_bulk = r.json["first_conversation_id"]
        .as_str()
        .unwrap()
        .to_string();

    let (csv, chunks) = export(&sim, &agent_id, "?format=csv").await;
    assert_eq!(csv.status, 200);
    let records = parse_csv(&csv.text);
    assert_eq!(records.len() - 1, voicebip_sim::EXPORT_LIMIT);
    assert_eq!(records[1][0], newest, "most recent first");
    let ids: std::collections::HashSet<&str> = records[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), 10_000);
    assert!(
        !ids.contains(oldest_bulk.as_str()),
        "the oldest are left out"
    );
    assert!(chunks > 1, "streamed in chunks, got {chunks}");

    let (json, _) = export(&sim, &agent_id, "?format=json").await;
    assert_eq!(json.json["conversations"].as_array().unwrap().len(), 10_000);
}
