//! `GET /v1/agents/{agent_id}/conversations/export?format=csv|json`: the agent's 10,000 most
//! recent conversations, one row per conversation with the list item's fields, streamed in
//! chunks (the snapshot is taken at once, the encoding happens as the client reads).

use crate::error::ApiError;
use crate::extract::{PathId, QueryMap};
use crate::faults::BodyFault;
use crate::model::ConversationItem;
use crate::state::AppState;
use crate::store::ListFilter;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Extension;
use bytes::Bytes;
use futures_util::StreamExt;

pub const EXPORT_LIMIT: usize = 10_000;
const ROWS_PER_CHUNK: usize = 500;

pub const CSV_COLUMNS: [&str; 10] = [
    "conversation_id",
    "agent_id",
    "channel",
    "from_number",
    "to_number",
    "window_expires_at",
    "opt_out",
    "created_at",
    "updated_at",
    "last_message_at",
];

#[derive(Clone, Copy)]
enum Format {
    Csv,
    Json,
}

/// One RFC 4180 field: quoted when it holds a comma, a quote, CR or LF; quotes doubled.
pub fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// One CSV record, CRLF-terminated.
pub fn csv_record<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = fields
        .into_iter()
        .map(csv_field)
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

fn csv_row(item: &ConversationItem) -> String {
    let opt_out = if item.opt_out { "true" } else { "false" };
    csv_record([
        item.conversation_id.as_str(),
        &item.agent_id,
        item.channel.as_str(),
        &item.from_number,
        &item.to_number,
        item.window_expires_at.as_deref().unwrap_or(""),
        opt_out,
        &item.created_at,
        &item.updated_at,
        &item.last_message_at,
    ])
}

fn encode_chunk(format: Format, rows: &[ConversationItem], first_chunk: bool) -> String {
    let mut out = String::with_capacity(rows.len() * 220);
    for (i, item) in rows.iter().enumerate() {
        match format {
            Format::Csv => out.push_str(&csv_row(item)),
            Format::Json => {
                if !(first_chunk && i == 0) {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(item).unwrap_or_default());
            }
        }
    }
    out
}

pub async fn export(
    State(state): State<AppState>,
    PathId(agent_id): PathId,
    fault: Option<Extension<BodyFault>>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let format = match query.get("format") {
        None | Some("csv") => Format::Csv,
        Some("json") => Format::Json,
        Some(other) => {
            return Err(ApiError::invalid_argument(format!(
                "format must be csv or json, got {other:?}"
            )))
        }
    };
    let items = {
        let store = state.store();
        if store.agent(&agent_id).is_none() {
            return Err(ApiError::not_found(format!("agent {agent_id} not found")));
        }
        let filter = ListFilter {
            agent_id: Some(&agent_id),
            channel: None,
        };
        store.list(&filter, None, EXPORT_LIMIT).0
    };

    let (head, tail, content_type, ext) = match format {
        Format::Csv => (
            csv_record(CSV_COLUMNS),
            String::new(),
            "text/csv; charset=utf-8",
            "csv",
        ),
        Format::Json => (
            "{\"conversations\":[".to_string(),
            "]}\n".to_string(),
            "application/json",
            "json",
        ),
    };
    let chunks: Vec<Vec<ConversationItem>> = items
        .chunks(ROWS_PER_CHUNK)
        .map(<[ConversationItem]>::to_vec)
        .collect();
    let body = futures_util::stream::iter(
        std::iter::once(head)
            .chain(
                chunks
                    .into_iter()
                    .enumerate()
                    .map(move |(i, rows)| encode_chunk(format, &rows, i == 0)),
            )
            .chain(std::iter::once(tail))
            .filter(|s| !s.is_empty())
            .map(|s| Ok::<Bytes, std::io::Error>(Bytes::from(s))),
    );
    // A `chunk_delay_ms` fault: every chunk after the first waits (`first_chunk_delay_ms`: the
    // first, the headers sent); `cut_body_after_chunks`:
    // the body ends early, as if whole; `break_body_after_chunks`: it ends there in an error,
    // which drops the connection without the body's end.
    let Extension(fault) = fault.unwrap_or_default();
    let delay = fault.pace;
    let head_start = fault.head_start;
    let cut = fault.cut_after_chunks.map_or(usize::MAX, |n| n as usize);
    let broken = fault.broken.then(|| {
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "break_body_after_chunks",
        ))
    });
    let body = body
        .take(cut)
        .chain(futures_util::stream::iter(broken))
        .enumerate()
        .then(move |(i, chunk)| async move {
            let wait = if i == 0 { head_start } else { delay };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            chunk
        });

    let safe_agent: String = agent_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let disposition = format!("attachment; filename=\"conversations-{safe_agent}.{ext}\"");
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4180_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\r"), "\"cr\r\"");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_record(["a", "b,c", ""]), "a,\"b,c\",\r\n");
    }
}
