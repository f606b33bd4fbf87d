//! Accessibility checks with axe-core, run inside the page under test.

use std::fmt::Write as _;

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::{paths, Harness};

/// One failed axe rule, with the elements that fail it.
#[derive(Debug, Clone, Deserialize)]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    #[serde(rename = "helpUrl")]
    pub help_url: String,
    pub nodes: Vec<ViolationNode>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ViolationNode {
    /// CSS selectors; nested arrays for elements inside shadow roots or frames.
    pub target: Vec<Value>,
    pub html: String,
    #[serde(rename = "failureSummary")]
    pub failure_summary: Option<String>,
}

/// Runs axe and hands back either the violations or the error, so a failure inside axe is
/// reported as such instead of as a WebDriver script timeout.
const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
window.axe
  .run(document, { resultTypes: ['violations'] })
  .then(r => done({ violations: r.violations }))
  .catch(e => done({ error: String(e && e.stack || e) }));
"#;

impl Harness {
    /// Run axe-core on the current page and return its violations. axe is injected on first
    /// use in each page load (a navigation discards it; client-side route changes keep it).
    pub async fn axe_check(&self) -> Result<Vec<Violation>> {
        let loaded = self
            .browser
            .execute(
                "return !!(window.axe && typeof window.axe.run === 'function');",
                vec![],
            )
            .await
            .context("checking for axe-core in the page")?;
        if loaded != Value::Bool(true) {
            let path = paths::axe_core_js()?;
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            self.browser
                .execute(&source, vec![])
                .await
                .context("injecting axe-core into the page")?;
        }
        let mut outcome = self
            .browser
            .execute_async(RUN_AXE, vec![])
            .await
            .context("running axe-core")?;
        if let Some(error) = outcome.get("error") {
            bail!("axe-core failed in the page: {error}");
        }
        let violations = outcome
            .get_mut("violations")
            .map(Value::take)
            .ok_or_else(|| anyhow!("axe-core returned no violations list: {outcome}"))?;
        serde_json::from_value(violations).context("decoding axe-core's violations")
    }

    /// Run axe-core and fail, listing every rule and offending element, unless the page has no
    /// violations. `what` names the screen in the message.
    pub async fn assert_no_axe_violations(&self, what: &str) -> Result<()> {
        let violations = self.axe_check().await?;
        if !violations.is_empty() {
            bail!(
                "axe-core found {} violation(s) on {what}:\n{}",
                violations.len(),
                describe(&violations)
            );
        }
        Ok(())
    }
}

/// A readable report: rule, impact, help and link, then each element's selector and summary.
pub fn describe(violations: &[Violation]) -> String {
    let mut out = String::new();
    for v in violations {
        let _ = writeln!(
            out,
            "- {} ({}): {} <{}>",
            v.id,
            v.impact.as_deref().unwrap_or("unknown impact"),
            v.help,
            v.help_url
        );
        for node in &v.nodes {
            let target = node
                .target
                .iter()
                .map(|t| match t {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" >> ");
            let _ = writeln!(out, "    at {target}: {}", node.html);
            if let Some(summary) = &node.failure_summary {
                for line in summary.lines() {
                    let _ = writeln!(out, "      {line}");
                }
            }
        }
    }
    out
}
