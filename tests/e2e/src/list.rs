//! Reading long lists the way an operator sees them. The console virtualises its lists (only
//! the rows near the viewport are in the DOM), so "every row" means scrolling and collecting,
//! not one `querySelectorAll`.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::json;

use crate::page::poll_until;
use crate::Harness;

/// One row: its id attribute and the text of each requested field (`None` if the row has no
/// such element).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Row {
    pub id: String,
    pub fields: Vec<Option<String>>,
}

/// The rows in the DOM now, in on-screen order (a virtual list may keep recycled rows out of
/// DOM order, so sort by position).
const SNAPSHOT: &str = r#"
const [rowCss, idAttr, fields] = arguments;
return Array.from(document.querySelectorAll(rowCss))
  .map(r => ({
    top: r.getBoundingClientRect().top,
    id: r.getAttribute(idAttr) || '',
    fields: fields.map(f => {
      const e = r.querySelector(f);
      return e ? (e.innerText || '').trim() : null;
    }),
  }))
  .sort((a, b) => a.top - b.top)
  .map(({ id, fields }) => ({ id, fields }));
"#;

/// Scroll the last row into view, as a user scrolling down would, so the list renders more.
const SCROLL_ON: &str = r#"
const rows = document.querySelectorAll(arguments[0]);
if (rows.length) rows[rows.length - 1].scrollIntoView({ block: 'start' });
"#;

impl Harness {
    /// The rows matching `row_css` currently in the DOM, in on-screen order, with the text of
    /// each of `fields` (CSS selectors inside the row).
    pub async fn rows(&self, row_css: &str, id_attr: &str, fields: &[&str]) -> Result<Vec<Row>> {
        let value = self
            .browser
            .execute(
                SNAPSHOT,
                vec![json!(row_css), json!(id_attr), json!(fields)],
            )
            .await
            .with_context(|| format!("reading the rows `{row_css}`"))?;
        serde_json::from_value(value).with_context(|| format!("decoding the rows `{row_css}`"))
    }

    /// The first `count` rows of a (possibly virtualised) list, scrolling down until that many
    /// distinct rows (by `id_attr`) were seen. Fails if the list stops growing first, waiting
    /// at most `timeout` for each scroll to render new rows.
    pub async fn collect_rows(
        &self,
        row_css: &str,
        id_attr: &str,
        fields: &[&str],
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Row>> {
        let mut seen: Vec<Row> = Vec::new();
        loop {
            for row in self.rows(row_css, id_attr, fields).await? {
                if !seen.iter().any(|r| r.id == row.id) {
                    seen.push(row);
                }
            }
            if seen.len() >= count {
                seen.truncate(count);
                return Ok(seen);
            }
            let before = seen.len();
            self.browser
                .execute(SCROLL_ON, vec![json!(row_css)])
                .await
                .with_context(|| format!("scrolling the rows `{row_css}`"))?;
            let grew = poll_until("the list to render more rows", timeout, || async {
                let now = self.rows(row_css, id_attr, fields).await?;
                let new = now.iter().filter(|r| !seen.iter().any(|s| s.id == r.id));
                Ok((new.count() > 0).then_some(()))
            })
            .await;
            if grew.is_err() {
                bail!("the list `{row_css}` stopped at {before} rows; wanted {count}");
            }
        }
    }
}
