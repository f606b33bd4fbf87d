//! What a test does with the page: navigate, wait, read, type, click. Every wait has an
//! explicit deadline and says what it waited for when it gives up.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::Locator;
use serde_json::json;

use crate::Harness;

/// How often waits re-check the page: fast enough not to slow tests, slow enough not to load
/// 2 cores with WebDriver round trips.
const POLL: Duration = Duration::from_millis(100);

/// How long the helpers that take no deadline (`fill`, `click`, `connect`) wait for their
/// element: generous, since the first screen includes compiling the wasm in a cold browser.
const ELEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Re-run `check` until it yields `Some`, or fail after `timeout` naming `what`. Errors from
/// `check` are retried too (the element may be re-rendered mid-read) and the last one is
/// reported.
pub async fn poll_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    loop {
        let last = match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => None,
            Err(e) => Some(e),
        };
        if start.elapsed() >= timeout {
            return Err(match last {
                Some(e) => e.context(format!("timed out after {timeout:?} waiting for {what}")),
                None => anyhow::anyhow!("timed out after {timeout:?} waiting for {what}"),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

impl Harness {
    /// Runs one Chrome DevTools Protocol command on the page and returns its result.
    pub async fn cdp(&self, cmd: &str, params: serde_json::Value) -> Result<serde_json::Value> {
        crate::browser::cdp(&self.browser, cmd, params).await
    }

    /// Load `path` (e.g. `/` or `/conversations`) from the simulator, as a fresh page load.
    pub async fn open(&self, path: &str) -> Result<()> {
        let url = format!("{}/{}", self.base_url, path.trim_start_matches('/'));
        self.browser
            .goto(&url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// The current URL's path (the console's route).
    pub async fn path(&self) -> Result<String> {
        let url = self
            .browser
            .current_url()
            .await
            .context("reading the current URL")?;
        Ok(url.path().to_string())
    }

    /// Wait until the route is `path` (after a redirect or a client-side navigation).
    pub async fn wait_for_path(&self, path: &str, timeout: Duration) -> Result<()> {
        let reached = poll_until(&format!("the route {path}"), timeout, || async {
            Ok((self.path().await? == path).then_some(()))
        })
        .await;
        if reached.is_err() {
            let actual = self.path().await?;
            bail!("the route is still {actual} after {timeout:?}; expected {path}");
        }
        Ok(())
    }

    /// Wait until an element matches `css`, and return it.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        self.browser
            .wait()
            .at_most(timeout)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting {timeout:?} for `{css}`"))
    }

    /// Wait until at least `min` elements match `css`, and return all of them.
    pub async fn wait_for_all(
        &self,
        css: &str,
        min: usize,
        timeout: Duration,
    ) -> Result<Vec<Element>> {
        poll_until(&format!("{min} or more `{css}`"), timeout, || async {
            let found = self.browser.find_all(Locator::Css(css)).await?;
            Ok((found.len() >= min).then_some(found))
        })
        .await
    }

    /// The id of the element that has the focus (empty when it has none, or when the page's
    /// body has it: where the browser drops a focus whose element went away or was disabled).
    pub async fn focused_id(&self) -> Result<String> {
        let v = self
            .browser
            .execute(
                "return document.activeElement ? document.activeElement.id : '';",
                vec![],
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Waits until what `css` finds (the first match) has the focus.
    pub async fn wait_focus_on(&self, css: &str, timeout: Duration) -> Result<()> {
        poll_until(&format!("the focus on {css}"), timeout, || async {
            let on = self
                .browser
                .execute(
                    "return document.activeElement === document.querySelector(arguments[0]);",
                    vec![json!(css)],
                )
                .await?;
            Ok((on == json!(true)).then_some(()))
        })
        .await
    }

    /// The rendered text (`innerText`, trimmed) of every element matching `css`, read in one
    /// script so a re-render between elements cannot make the read fail half-way.
    pub async fn texts(&self, css: &str) -> Result<Vec<String>> {
        let value = self
            .browser
            .execute(
                "return Array.from(document.querySelectorAll(arguments[0]), \
                 e => (e.innerText || '').trim());",
                vec![json!(css)],
            )
            .await
            .with_context(|| format!("reading the text of `{css}`"))?;
        serde_json::from_value(value).with_context(|| format!("decoding the text of `{css}`"))
    }

    /// The accessible name of the first element matching `css`, as a screen reader gets it.
    pub async fn accessible_name(&self, css: &str) -> Result<String> {
        let element = self.wait_for(css, Duration::from_secs(15)).await?;
        crate::browser::computed_label(&self.browser, &element)
            .await
            .with_context(|| format!("the accessible name of `{css}`"))
    }

    /// The attribute `name` of every element matching `css` (`None` where it is absent).
    pub async fn attrs(&self, css: &str, name: &str) -> Result<Vec<Option<String>>> {
        let value = self
            .browser
            .execute(
                "return Array.from(document.querySelectorAll(arguments[0]), \
                 e => e.getAttribute(arguments[1]));",
                vec![json!(css), json!(name)],
            )
            .await
            .with_context(|| format!("reading [{name}] of `{css}`"))?;
        serde_json::from_value(value).with_context(|| format!("decoding [{name}] of `{css}`"))
    }

    /// Replace the value of the input matching `css` with `text`, typed as a user would.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let input = self.wait_for(css, ELEMENT_TIMEOUT).await?;
        input
            .clear()
            .await
            .with_context(|| format!("clearing `{css}`"))?;
        input
            .send_keys(text)
            .await
            .with_context(|| format!("typing into `{css}`"))
    }

    /// Click the element matching `css` once it exists.
    pub async fn click(&self, css: &str) -> Result<()> {
        let element = self.wait_for(css, ELEMENT_TIMEOUT).await?;
        element
            .click()
            .await
            .with_context(|| format!("clicking `{css}`"))
    }

    /// On the connect screen: wait for the API base URL to be prefilled from config.json,
    /// enter `key` and submit. It does not wait for the outcome: a test asserts the inbox or
    /// `#connect-error`, whichever it expects.
    pub async fn connect(&self, key: &str) -> Result<()> {
        self.wait_for("form#connect-form", ELEMENT_TIMEOUT)
            .await
            .context("the connect screen did not appear")?;
        // Submitting before the runtime configuration arrives would send an empty base URL.
        poll_until(
            "#api-base-url to be prefilled from config.json",
            ELEMENT_TIMEOUT,
            || async {
                let input = self.browser.find(Locator::Css("#api-base-url")).await?;
                let value = input.prop("value").await?.unwrap_or_default();
                Ok((!value.is_empty()).then_some(()))
            },
        )
        .await?;
        self.fill("#api-key", key).await?;
        self.click("#connect-submit").await
    }
}
