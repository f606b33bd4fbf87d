//! One function per endpoint. The key travels in the `Authorization` header on every request; the
//! only URL that ever carries it is the stream's, which the contract requires.

use super::deadline;
use super::error::ApiError;
use super::retry;
use super::types::{ListPage, SendMessage, SendTemplate, SentMessage};
use crate::model::conversation::ModeAnswer;
use crate::model::export::ExportFormat;
use crate::model::inbox::{encode_component, Filters};
use crate::model::thread::Addressing;
use crate::model::{AgentId, AiMode, Conversation, ConversationId};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// Told when a request starts and stops waiting to be retried, so the screen can say "retrying
/// in N s".
pub type WaitNotifier = Arc<dyn Fn(Wait) + Send + Sync>;

/// One request's wait before its retry, named by when it ends (ms since the epoch, the device's
/// clock): several may wait at once, and each ends its own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Wait {
    Until(f64),
    Over(f64),
}

#[derive(Clone)]
pub struct Client {
    base: String,
    key: String,
    on_wait: Option<WaitNotifier>,
    /// Set once the session it served has ended (a sign-out, a refused key, a host's other
    /// key): no request of its is tried again with its key. Shared by its clones.
    ended: Arc<AtomicBool>,
    retry_rate_limits: bool,
}

impl PartialEq for Client {
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base && self.key == other.key
    }
}

impl std::fmt::Debug for Client {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).finish()
    }
}

/// Page size for thread history.
pub const MESSAGE_PAGE_SIZE: u32 = 50;

impl Client {
    pub fn new(base: &str, key: &str) -> Self {
        Client {
            base: base.trim_end_matches('/').to_owned(),
            key: key.trim().to_owned(),
            on_wait: None,
            ended: Arc::new(AtomicBool::new(false)),
            retry_rate_limits: true,
        }
    }

    pub fn with_wait_notifier(mut self, on_wait: WaitNotifier) -> Self {
        self.on_wait = Some(on_wait);
        self
    }

    /// This client, in `current`'s session (the same key): they end together.
    pub fn continuing(mut self, current: &Client) -> Client {
        self.ended = current.ended.clone();
        self
    }

    /// Its session has ended (`Session`): its requests waiting to be tried again give up.
    pub fn end_session(&self) {
        self.ended.store(true, Ordering::Relaxed);
    }

    /// The same client without retries on a 429: for background work that has its own schedule
    /// and must not show "retrying" to the operator.
    pub fn quiet(&self) -> Client {
        Client {
            base: self.base.clone(),
            key: self.key.clone(),
            on_wait: None,
            ended: self.ended.clone(),
            retry_rate_limits: false,
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether `key` is this client's (to forget a stored key only where it is this session's).
    pub fn holds_key(&self, key: &str) -> bool {
        self.key == key
    }

    /// Names the workspace this client reads (its API and key) without revealing the key: tabs
    /// signed in with different keys (a sandbox and a live one, say) keep to themselves.
    pub fn workspace(&self) -> String {
        // FNV-1a: a stable name, not a secret; the key has far more entropy than 64 bits show.
        let hash = [self.base.as_bytes(), b"\n", self.key.as_bytes()]
            .concat()
            .iter()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        format!("{hash:016x}")
    }

    /// `GET /v1/conversations`.
    pub async fn list_conversations(
        &self,
        filters: &Filters,
        page_token: Option<&str>,
        page_size: u32,
    ) -> Result<ListPage, ApiError> {
        self.list_conversations_while(filters, page_token, page_size, &|| true)
            .await
    }

    /// `GET /v1/conversations`, for a list the operator may leave (other filters) while its
    /// request waits out a 429 or a backoff: then it ends, where it would spend the
    /// workspace's rate limit on a page no one will see.
    pub async fn list_conversations_while(
        &self,
        filters: &Filters,
        page_token: Option<&str>,
        page_size: u32,
        still_wanted: &dyn Fn() -> bool,
    ) -> Result<ListPage, ApiError> {
        let url = self.url(&list_path(filters, page_token, page_size));
        self.read_from(&url, still_wanted).await
    }

    /// `GET /v1/conversations/{id}`, one page of messages (newest first). Retried only while
    /// `still_wanted`: a conversation the operator has left is not asked for again, through a
    /// 429's wait, from the workspace's rate limit.
    pub async fn get_conversation(
        &self,
        id: &ConversationId,
        page_token: Option<&str>,
        still_wanted: &dyn Fn() -> bool,
    ) -> Result<Conversation, ApiError> {
        let mut path = format!(
            "/conversations/{}?page_size={MESSAGE_PAGE_SIZE}",
            encode_component(id.as_str())
        );
        if let Some(t) = page_token {
            path.push_str(&format!("&page_token={}", encode_component(t)));
        }
        self.read_from(&self.url(&path), still_wanted).await
    }

    /// `PATCH /v1/conversations/{id}`. Idempotent by contract, so a 5xx may be retried; each
    /// retry only while `still_wanted` (the conversation may change hands during a 429's wait).
    pub async fn set_mode(
        &self,
        id: &ConversationId,
        mode: AiMode,
        still_wanted: &dyn Fn() -> bool,
    ) -> Result<ModeAnswer, ApiError> {
        let url = self.url(&format!("/conversations/{}", encode_component(id.as_str())));
        // A struct rather than `json!`, which builds a `Value` map first.
        #[derive(Serialize)]
        struct Body {
            ai_mode: &'static str,
        }
        let body = Body {
            ai_mode: mode.as_param(),
        };
        self.call(true, still_wanted, &|| {
            with_json(self.authorized(Request::patch(&url))?, &body)
        })
        .await
    }

    /// `POST /v1/messages`. Never retried on a 5xx or network failure; after a 429's wait, only
    /// if `still_wanted` (the conversation may have been handed back to the AI meanwhile).
    /// Each attempt is addressed as `to` says then: a customer who wrote from the other channel
    /// while a 429 was waited out gets the reply there. With the addressing it went with.
    pub async fn send_message(
        &self,
        body: &str,
        to: &dyn Fn() -> Addressing,
        still_wanted: &dyn Fn() -> bool,
    ) -> Result<(SentMessage, Addressing), ApiError> {
        let url = self.url("/messages");
        let sent_to = std::cell::RefCell::new(None::<Addressing>);
        let sent = self
            .call(false, still_wanted, &|| {
                let req = SendMessage {
                    to: to(),
                    body: body.to_owned(),
                };
                let request = with_json(self.authorized(Request::post(&url))?, &req);
                sent_to.replace(Some(req.to));
                request
            })
            .await?;
        Ok((sent, sent_to.into_inner().unwrap_or_else(to)))
    }

    /// `POST /v1/messages/template`, as `send_message`.
    pub async fn send_template(
        &self,
        req: &SendTemplate,
        still_wanted: &dyn Fn() -> bool,
    ) -> Result<SentMessage, ApiError> {
        let url = self.url("/messages/template");
        self.call(false, still_wanted, &|| {
            with_json(self.authorized(Request::post(&url))?, req)
        })
        .await
    }

    /// `GET /v1/agents/{id}/conversations/export`: the response begun, for the caller to read
    /// on as a stream. It takes the Bearer header like every other call, so it can't be a plain
    /// link. Retried as a read until its body's first bytes come (nothing has been saved yet: a
    /// server may answer, then gather the file, and a connection lost meanwhile is a read's),
    /// and not once the operator has cancelled (`cancel`, which also ends the body's download).
    ///
    /// Each attempt has a signal of its own: the operator's Cancel and a limit of its own both
    /// end it. (A fetch takes one signal, and the usual timeout's would cut a long download.)
    /// An attempt given up on is ended, not left running beside the next.
    pub async fn open_export(
        &self,
        agent: &AgentId,
        format: ExportFormat,
        cancel: &web_sys::AbortSignal,
    ) -> Result<Begun, ApiError> {
        let url = self.url(&format!(
            "/agents/{}/conversations/export?format={}",
            encode_component(agent.as_str()),
            format.as_param()
        ));
        // The last attempt's limit, dropped (so cancelled) with it.
        let limit = std::cell::RefCell::new(None::<gloo_timers::callback::Timeout>);
        let build = || {
            let attempt =
                web_sys::AbortController::new().map_err(|e| ApiError::Network(format!("{e:?}")))?;
            // (A signal aborted already would never tell its listener.)
            if cancel.aborted() {
                attempt.abort();
            }
            let ends = attempt.clone();
            let on_cancel = wasm_bindgen::closure::Closure::once_into_js(move || ends.abort());
            cancel
                .add_event_listener_with_callback("abort", on_cancel.unchecked_ref())
                .map_err(|e| ApiError::Network(format!("{e:?}")))?;
            let ends = attempt.clone();
            *limit.borrow_mut() = Some(gloo_timers::callback::Timeout::new(
                EXPORT_START_LIMIT_MS,
                move || {
                    // Ended as a request's timeout signal ends it: the operator is told it
                    // timed out, not that Voicebip could not be reached.
                    let why = js_sys::Error::new("the export did not begin in time");
                    why.set_name("TimeoutError");
                    ends.abort_with_reason(&why);
                },
            ));
            self.authorized(Request::get(&url))?
                .abort_signal(Some(&attempt.signal()))
                .build()
                .map_err(|e| ApiError::Network(e.to_string()))
        };
        let answer = self
            .with_retries(true, &|| !cancel.aborted(), &build, begun)
            .await;
        // Begun: the body has a limit of its own, between its chunks (the caller's).
        limit.take().map(gloo_timers::callback::Timeout::cancel);
        answer
    }

    /// The stream URL. Browsers cannot set headers on an `EventSource`, so the contract takes the
    /// key as `?token=` on this path, and only here.
    pub fn stream_url(&self, id: &ConversationId) -> String {
        format!(
            "{}?token={}",
            self.url(&format!(
                "/conversations/{}/stream",
                encode_component(id.as_str())
            )),
            encode_component(&self.key)
        )
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The request with the key's header. A key with a character no header can hold (a space
    /// or an invisible character pasted with it) is refused here: the browser would throw, and
    /// the request's task would end with no answer at all.
    ///
    /// Never from or into the browser's cache: a refusal such as a `410` is cacheable without a
    /// word from the server, and Try again was then answered by the cached refusal, for good;
    /// and customers' messages have no place on the disk of a shared machine.
    fn authorized(&self, builder: RequestBuilder) -> Result<RequestBuilder, ApiError> {
        if !key_is_well_formed(&self.key) {
            return Err(ApiError::Unauthenticated(String::new()));
        }
        Ok(builder
            .cache(web_sys::RequestCache::NoStore)
            .header("Authorization", &format!("Bearer {}", self.key))
            .abort_signal(Some(&web_sys::AbortSignal::timeout_with_u32(
                deadline::SILENCE_LIMIT_MS,
            ))))
    }

    async fn read_from<T: DeserializeOwned>(
        &self,
        url: &str,
        still_wanted: &dyn Fn() -> bool,
    ) -> Result<T, ApiError> {
        self.call(true, still_wanted, &|| {
            self.authorized(Request::get(url))?
                .build()
                .map_err(|e| ApiError::Network(e.to_string()))
        })
        .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        idempotent: bool,
        still_wanted: &dyn Fn() -> bool,
        build: &dyn Fn() -> Result<Request, ApiError>,
    ) -> Result<T, ApiError> {
        let text = self
            .with_retries(idempotent, still_wanted, build, send)
            .await?;
        parse(&text)
    }

    /// What `attempt` made of the answer, once a request succeeded: its text (`send`) or the
    /// response with its body still to read (`answered`). Generic over those two only, so the wasm holds two copies of the
    /// request/retry state machine rather than one per answer type; a body that doesn't parse is
    /// never retried (`Malformed`), so parsing comes after, in `call`.
    async fn with_retries<T, F: Future<Output = Result<T, ApiError>>>(
        &self,
        idempotent: bool,
        still_wanted: &dyn Fn() -> bool,
        build: &dyn Fn() -> Result<Request, ApiError>,
        attempt: fn(Request) -> F,
    ) -> Result<T, ApiError> {
        let mut tries = 0;
        loop {
            let error = match build() {
                Ok(request) => match attempt(request).await {
                    Ok(answer) => return Ok(answer),
                    Err(e) => e,
                },
                Err(e) => e,
            };
            tries += 1;
            if !self.retry_rate_limits && matches!(error, ApiError::RateLimited { .. }) {
                return Err(error);
            }
            let Some(wait_ms) = retry::delay_ms(&error, tries, idempotent) else {
                return Err(error);
            };
            // Asked again through the wait, which may be a minute's: a cancelled export, or a
            // reply to a conversation handed back meanwhile, ends it then, not at its end.
            let until = js_sys::Date::now() + f64::from(wait_ms);
            self.notify(Wait::Until(until));
            let wanted =
                retry::wait_while(until, &|| still_wanted() && self.in_session(), &|| false).await;
            self.notify(Wait::Over(until));
            if !wanted {
                // (A rate limit's wait given up part way, as the key check's is: what is left of
                // it, which the operator is told, not all of it again.)
                return Err(match error {
                    ApiError::RateLimited { .. } => ApiError::RateLimited {
                        retry_after_secs: ((until - js_sys::Date::now()) / 1000.0).ceil().max(1.0)
                            as u32,
                    },
                    other => other,
                });
            }
        }
    }

    /// Whether the session it served is still on (`end_session`); a key being checked is.
    pub fn in_session(&self) -> bool {
        !self.ended.load(Ordering::Relaxed)
    }

    fn notify(&self, wait: Wait) {
        if let Some(on_wait) = &self.on_wait {
            on_wait(wait);
        }
    }
}

/// How long an export's answer may take to begin: longer than other requests', as the server
/// may gather the file before its first byte; and not for good, as an answer that never began
/// left "Exporting…" on screen until the operator thought to cancel.
const EXPORT_START_LIMIT_MS: u32 = 2 * deadline::SILENCE_LIMIT_MS;

/// Whether `key` can be an API key at all: printable ASCII with no space, as a header carries
/// it.
pub fn key_is_well_formed(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The path and query of `GET /v1/conversations`.
fn list_path(filters: &Filters, page_token: Option<&str>, page_size: u32) -> String {
    let mut query = vec![format!("page_size={page_size}")];
    if let Some(a) = &filters.agent {
        query.push(format!("agent_id={}", encode_component(a.as_str())));
    }
    if let Some(c) = filters.channel.and_then(|c| c.as_param()) {
        query.push(format!("channel={c}"));
    }
    if let Some(t) = page_token {
        query.push(format!("page_token={}", encode_component(t)));
    }
    format!("/conversations?{}", query.join("&"))
}

fn with_json<B: Serialize>(builder: RequestBuilder, body: &B) -> Result<Request, ApiError> {
    builder
        .json(body)
        .map_err(|e| ApiError::Malformed(e.to_string()))
}

async fn send(request: Request) -> Result<String, ApiError> {
    answered(request)
        .await?
        .text()
        .await
        .map_err(|e| ApiError::unanswered(e.to_string()))
}

/// The answer, if it is a success (its body not read yet); else the error its status,
/// `Retry-After` and body make.
async fn answered(request: Request) -> Result<Response, ApiError> {
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::unanswered(e.to_string()))?;
    let status = response.status();
    if (200..300).contains(&status) {
        return Ok(response);
    }
    let retry_after = response.headers().get("Retry-After");
    let body = response.text().await.unwrap_or_default();
    Err(ApiError::from_response(
        status,
        retry_after.as_deref(),
        &body,
    ))
}

/// An export's answer begun: its first read (the body's first bytes, or its end) is in.
pub struct Begun {
    pub response: Response,
    pub reader: web_sys::ReadableStreamDefaultReader,
    /// The first read's `{done, value}`.
    pub first: wasm_bindgen::JsValue,
}

/// [`answered`], and the body's first read: within the export's start limit, as the request
/// (its attempt's signal ends both).
async fn begun(request: Request) -> Result<Begun, ApiError> {
    let response = answered(request).await?;
    let body = response
        .body()
        .ok_or_else(|| ApiError::Malformed("the export had no body".into()))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let first = wasm_bindgen_futures::JsFuture::from(reader.read())
        .await
        .map_err(|e| {
            // (`name: message`, as `unanswered` reads it: a `TimeoutError` is the start limit.)
            let said = e.dyn_ref::<js_sys::Error>().map_or_else(
                || format!("{e:?}"),
                |e| format!("{}: {}", String::from(e.name()), String::from(e.message())),
            );
            ApiError::unanswered(said)
        })?;
    Ok(Begun {
        response,
        reader,
        first,
    })
}

fn parse<T: DeserializeOwned>(body: &str) -> Result<T, ApiError> {
    serde_json::from_str(body).map_err(|e| ApiError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentId, Channel};

    #[test]
    fn list_paths_carry_the_filters_and_the_page_token_escaped() {
        assert_eq!(
            list_path(&Filters::default(), None, 50),
            "/conversations?page_size=50"
        );
        let filters = Filters {
            agent: Some(AgentId("agt 1&2".into())),
            channel: Some(Channel::Whatsapp),
        };
        assert_eq!(
            list_path(&filters, Some("tok/="), 20),
            "/conversations?page_size=20&agent_id=agt%201%262&channel=whatsapp\
             &page_token=tok%2F%3D"
        );
    }

    #[test]
    fn a_key_is_printable_ascii_without_spaces() {
        assert!(key_is_well_formed("pk_test_demo_voicebip"));
        for pasted in [
            "pk_test_a\u{200b}",
            "\u{feff}pk_test_a",
            "pk test",
            "pk_tést",
            "",
        ] {
            assert!(!key_is_well_formed(pasted), "{pasted:?}");
        }
    }
}
