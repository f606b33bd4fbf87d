//! Talking to the simulator directly: its control endpoints (`/sim/...`) to inject traffic and
//! faults and to inspect what the console sent, and its API to know what the console should show.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::Harness;

/// One `/v1` request the simulator answered, from `GET /sim/requests`.
#[derive(Debug, Clone, Deserialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The query string, with any `token` value replaced by `REDACTED` (`None` without one).
    #[serde(default)]
    pub query: Option<String>,
    /// Whether the query carried `token=` (only the stream path may).
    pub query_has_token: bool,
    /// Whether an `Authorization` header was sent.
    pub has_authorization: bool,
    pub status: u16,
    /// When it was answered, by the simulator's clock (ISO 8601, to the millisecond).
    pub at: String,
}

impl LoggedRequest {
    /// `at` in milliseconds since the epoch.
    pub fn at_ms(&self) -> anyhow::Result<i64> {
        voicebip_sim::parse_ts(&self.at)
            .ok_or_else(|| anyhow::anyhow!("an unreadable time in the request log: {}", self.at))
    }
}

impl Harness {
    /// The `/v1` requests the simulator has answered so far, oldest first.
    pub async fn sim_requests(&self) -> Result<Vec<LoggedRequest>> {
        let mut log = self.sim_get("/sim/requests").await?;
        // Accept both a bare array and one wrapped in `{"requests": [...]}`.
        let list = match log.get_mut("requests") {
            Some(inner) => inner.take(),
            None => log,
        };
        serde_json::from_value(list).context("decoding /sim/requests")
    }

    /// The absolute URL of `path` on the simulator.
    pub fn sim_url(&self, path: &str) -> String {
        format!("{}/{}", self.base_url, path.trim_start_matches('/'))
    }

    /// `GET path`, expecting a 2xx JSON answer (`Null` for an empty body).
    pub async fn sim_get(&self, path: &str) -> Result<Value> {
        self.sim_send(self.http.get(self.sim_url(path)), "GET", path)
            .await
    }

    /// `POST path` with a JSON body, expecting a 2xx JSON answer (`Null` for an empty body).
    pub async fn sim_post(&self, path: &str, body: &Value) -> Result<Value> {
        self.sim_send(self.http.post(self.sim_url(path)).json(body), "POST", path)
            .await
    }

    /// `DELETE path` (e.g. `/sim/faults`), expecting a 2xx answer.
    pub async fn sim_delete(&self, path: &str) -> Result<Value> {
        self.sim_send(self.http.delete(self.sim_url(path)), "DELETE", path)
            .await
    }

    /// `GET /v1{path}` with `Authorization: Bearer key`: what the API itself answers, to
    /// compare with what the console shows.
    pub async fn api_get(&self, path: &str, key: &str) -> Result<Value> {
        let url = self.sim_url(&format!("/v1/{}", path.trim_start_matches('/')));
        self.sim_send(self.http.get(url).bearer_auth(key), "GET", path)
            .await
    }

    /// `PATCH /v1{path}` with `body` and `Authorization: Bearer key`: another client's change,
    /// made behind the console's back.
    pub async fn api_patch(&self, path: &str, body: &Value, key: &str) -> Result<Value> {
        self.api_write(reqwest::Method::PATCH, path, body, key, None)
            .await
    }

    /// `api_patch` by another operator, `user`: the audit trail names them.
    pub async fn api_patch_as(
        &self,
        user: &str,
        path: &str,
        body: &Value,
        key: &str,
    ) -> Result<Value> {
        self.api_write(reqwest::Method::PATCH, path, body, key, Some(user))
            .await
    }

    /// `POST /v1{path}` with `body` and `Authorization: Bearer key`: another client's send.
    pub async fn api_post(&self, path: &str, body: &Value, key: &str) -> Result<Value> {
        self.api_write(reqwest::Method::POST, path, body, key, None)
            .await
    }

    /// `user`: the operator the simulator's audit trail names (its `x-voicebip-user` header).
    async fn api_write(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        key: &str,
        user: Option<&str>,
    ) -> Result<Value> {
        let url = self.sim_url(&format!("/v1/{}", path.trim_start_matches('/')));
        let mut request = self
            .http
            .request(method.clone(), url)
            .bearer_auth(key)
            .json(body);
        if let Some(user) = user {
            request = request.header("x-voicebip-user", user);
        }
        self.sim_send(request, method.as_str(), path).await
    }

    async fn sim_send(
        &self,
        request: reqwest::RequestBuilder,
        method: &str,
        path: &str,
    ) -> Result<Value> {
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path} on the simulator"))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .with_context(|| format!("reading the answer to {method} {path}"))?;
        if !status.is_success() {
            bail!("{method} {path} on the simulator answered {status}: {body}");
        }
        if body.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&body)
            .with_context(|| format!("{method} {path} answered non-JSON: {body}"))
    }
}
