//! The inbox as an operator moves through it: filters kept in the URL (and in history), pages
//! loaded as the list scrolls, the keyboard, and a list of thousands kept cheap by
//! virtualisation.

use std::collections::HashSet;
use std::time::Duration;

use crate::common::*;
use serde::Deserialize;
use serde_json::{json, Value};
use voicebip_e2e::anyhow::{anyhow, Context, Result};
use voicebip_e2e::{poll_until, with_harness, Harness, Key, Locator, Options, SeedSize};

/// The inbox's rows are 72 px high (`ROW_HEIGHT` in the console); the list's full height is
/// `loaded * 72`, which is how these tests count what is loaded without it being in the DOM.
const ROW_HEIGHT: f64 = 72.0;

#[derive(Debug, Deserialize)]
struct ListState {
    /// Conversations loaded (the list's height in rows).
    loaded: usize,
    /// `li.conversation-row` elements in the DOM.
    rows: usize,
    /// The footer says the list is complete.
    at_end: bool,
    load_more: bool,
}

async fn list_state(h: &Harness) -> Result<ListState> {
    let v = h
        .browser()
        .execute(
            r#"const ul = document.getElementById('conversation-list');
               return {
                 loaded: ul ? Math.round(parseFloat(ul.style.height || '0') / arguments[0]) : 0,
                 rows: document.querySelectorAll('li.conversation-row').length,
                 at_end: !!document.querySelector('.list-footer .end'),
                 load_more: !!document.getElementById('load-more'),
               };"#,
            vec![json!(ROW_HEIGHT)],
        )
        .await?;
    serde_json::from_value(v).context("decoding the list state")
}

/// Scroll the conversation list to `top` px (or to the end with `None`).
async fn scroll_list(h: &Harness, top: Option<f64>) -> Result<()> {
    h.browser()
        .execute(
            r#"const s = document.querySelector('.conversation-scroller');
               s.scrollTop = arguments[0] === null ? s.scrollHeight : arguments[0];
               s.dispatchEvent(new Event('scroll'));"#,
            vec![json!(top)],
        )
        .await?;
    Ok(())
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|c| {
            c["conversation_id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// The first rows the console lists (up to 20, scrolling as needed) are the API's for `query`.
async fn assert_rows_match_api(h: &Harness, query: &str, what: &str) -> Result<()> {
    let expected = ids(&api_list_all(h, query).await?);
    let n = expected.len().min(20);
    let expected = &expected[..n];
    // Wait until the list shows this filter's answer (the top rows in the DOM agree)...
    let settled = poll_until(&format!("the rows of {what}"), SCREEN, || async {
        let rows = h.rows(ROW, "data-conversation-id", &[]).await?;
        let top: Vec<String> = rows.into_iter().take(n).map(|r| r.id).collect();
        Ok((!top.is_empty() && expected.starts_with(&top)).then_some(()))
    })
    .await;
    // ...then read the first `n`, scrolling, and compare them all.
    let shown: Vec<String> = h
        .collect_rows(ROW, "data-conversation-id", &[], n, SCREEN)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    scroll_list(h, Some(0.0)).await?;
    assert_eq!(
        shown, expected,
        "the first rows of {what} are the API's, in order"
    );
    settled
}

/// The `data-index` of the row whose link has focus.
async fn focused_row(h: &Harness) -> Result<Option<String>> {
    let v = h
        .browser()
        .execute(
            "const li = document.activeElement && document.activeElement.closest('li.conversation-row');
             return li ? li.getAttribute('data-index') : null;",
            vec![],
        )
        .await?;
    Ok(v.as_str().map(str::to_string))
}

/// The keyboard on the list's first row.
async fn focus_first_row(h: &Harness) -> Result<()> {
    h.browser()
        .execute(
            "document.querySelector(\"li[data-index='0'] a\").focus();",
            vec![],
        )
        .await?;
    Ok(())
}

/// Whether the focused element is within the list's visible box (not in the rows drawn above
/// or below it).
async fn focus_in_view(h: &Harness) -> Result<bool> {
    let seen = h
        .browser()
        .execute(
            "const r = document.activeElement.getBoundingClientRect();
             const v = document.querySelector('.conversation-scroller').getBoundingClientRect();
             return r.top >= v.top - 1 && r.bottom <= v.bottom + 1;",
            vec![],
        )
        .await?;
    Ok(seen == json!(true))
}

async fn wait_focused_row(h: &Harness, index: usize) -> Result<()> {
    let want = index.to_string();
    poll_until(&format!("row {index} to have focus"), SCREEN, || async {
        Ok((focused_row(h).await?.as_deref() == Some(want.as_str())).then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_filters_history_and_keyboard() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let all = api_list_all(h, "").await?;
        assert_eq!(all.len(), 300, "the demo seed lists 300 conversations");

        // One page of 50 at first, with a way to get more.
        let first = poll_until("the first page", SCREEN, || async {
            let s = list_state(h).await?;
            Ok((s.loaded == 50 && s.load_more).then_some(s))
        })
        .await?;
        assert!(
            first.rows < 60,
            "only the visible rows are in the DOM: {first:?}"
        );
        assert_rows_match_api(h, "", "the unfiltered inbox").await?;

        // `Load more`, by keyboard: Tab from the list's row reaches it. That scrolls it into
        // view, which loads a page by itself: the button keeps the focus through it. Then
        // Enter fetches one more page, with the token of the page before, and the focus stays.
        h.browser()
            .execute(
                "document.querySelector(\"li.conversation-row[data-index='0'] a\").focus();",
                vec![],
            )
            .await?;
        wait_focused_row(h, 0).await?;
        h.press(&[Key::Tab.into()]).await?;
        assert_eq!(h.focused_id().await?, "load-more", "Tab from the rows");
        let idle = || async {
            poll_until("no page loading", SCREEN, || async {
                let idle = h.attrs("#load-more", "aria-disabled").await? == [Some("false".into())];
                Ok(idle.then_some(()))
            })
            .await
        };
        // Focusing the button scrolled the list to its end, which loads the second page by
        // itself; Enter is tested once that is done.
        poll_until("the page the scroll asked for", SCREEN, || async {
            Ok((list_state(h).await?.loaded >= 100).then_some(()))
        })
        .await?;
        idle().await?;
        let before = list_state(h).await?.loaded;
        clear_requests(h).await?;
        h.press(&[Key::Enter.into()]).await?;
        poll_until("the page Enter asked for", SCREEN, || async {
            Ok((list_state(h).await?.loaded == before + 50).then_some(()))
        })
        .await?;
        idle().await?;
        assert_eq!(
            h.focused_id().await?,
            "load-more",
            "the button keeps the focus while the page loads and after"
        );
        // (The inbox's refresh of its first page may come in between, without a token.)
        let list_calls = requests(h, "GET", |p| p == "/v1/conversations").await?;
        let next_pages = list_calls
            .iter()
            .filter(|r| {
                r.query
                    .as_deref()
                    .unwrap_or_default()
                    .contains("page_token=")
            })
            .count();
        assert_eq!(
            next_pages, 1,
            "Enter on Load more asks for the next page, once, with a page_token: {list_calls:?}"
        );

        // Scrolling to the end loads the rest, and the DOM keeps only a window of rows.
        let mut max_rows = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let done = loop {
            scroll_list(h, None).await?;
            let s = list_state(h).await?;
            max_rows = max_rows.max(s.rows);
            if s.at_end {
                break s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "infinite scroll did not reach the end of the list: {s:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(
            done.loaded,
            all.len(),
            "every conversation is loaded once: {done:?}"
        );
        // The button went when the last page came while it had the focus: the focus went to
        // what took its place, not to the page's start.
        h.wait_focus_on(".list-footer .end", SCREEN).await?;
        assert!(
            max_rows < 60,
            "at most a screenful of rows in the DOM, saw {max_rows}"
        );
        scroll_list(h, None).await?;
        let last_index = all.len() - 1;
        let last_css = format!("li.conversation-row[data-index='{last_index}']");
        h.wait_for(&last_css, SCREEN).await?;
        assert_eq!(
            h.attrs(&last_css, "data-conversation-id").await?,
            [Some(ids(&all)[last_index].clone())],
            "the last row is the API's last conversation"
        );
        scroll_list(h, Some(0.0)).await?;

        // Channel filter: in the URL, and the rows are the API's for that filter.
        select(h, "select#filter-channel", "sms").await?;
        poll_until("?channel=sms in the URL", SCREEN, || async {
            Ok((url_query(h).await? == "channel=sms").then_some(()))
        })
        .await?;
        assert_rows_match_api(h, "channel=sms", "the SMS filter").await?;
        let badges = h.texts(&format!("{ROW} .channel-badge")).await?;
        assert!(
            !badges.is_empty() && badges.iter().all(|b| b == "SMS"),
            "every row shown is SMS: {badges:?}"
        );
        // A second page under this filter, so the next filter change has a token to drop.
        h.browser()
            .execute("document.getElementById('load-more').click();", vec![])
            .await?;
        poll_until("a second SMS page", SCREEN, || async {
            Ok((list_state(h).await?.loaded > 50).then_some(()))
        })
        .await?;

        // Agent filter on top: starts over (no page_token), and the rows match both filters.
        let agents: Vec<String> = h
            .attrs("select#filter-agent option", "value")
            .await?
            .into_iter()
            .flatten()
            .filter(|v| !v.is_empty())
            .collect();
        let info = h.sim_get("/sim/info").await?;
        let seeded: HashSet<String> = info["agents"]
            .as_array()
            .ok_or_else(|| anyhow!("no agents in /sim/info"))?
            .iter()
            .filter_map(|a| a["agent_id"].as_str().map(str::to_string))
            .collect();
        assert!(
            !agents.is_empty(),
            "the agent filter offers the agents seen"
        );
        assert!(
            agents.iter().all(|a| seeded.contains(a)),
            "the agent options are real agents: {agents:?} vs {seeded:?}"
        );
        let agent = agents[agents.len() - 1].clone();
        clear_requests(h).await?;
        select(h, "select#filter-agent", &agent).await?;
        let both = format!("agent={agent}&channel=sms");
        poll_until("both filters in the URL", SCREEN, || async {
            Ok((url_query(h).await? == both).then_some(()))
        })
        .await?;
        assert_rows_match_api(h, &format!("agent_id={agent}&channel=sms"), "agent + SMS").await?;
        let after = requests(h, "GET", |p| p == "/v1/conversations").await?;
        // The first request for the new filters (a background refresh of the old list may
        // come before it).
        let first_after = after
            .iter()
            .find(|r| {
                r.query
                    .as_deref()
                    .unwrap_or_default()
                    .contains(&format!("agent_id={agent}"))
            })
            .ok_or_else(|| anyhow!("no list request for the new filters: {after:?}"))?;
        let q = first_after.query.clone().unwrap_or_default();
        assert!(
            !q.contains("page_token"),
            "a filter change starts over, without the old token: {q}"
        );
        assert!(
            q.contains(&format!("agent_id={agent}")) && q.contains("channel=sms"),
            "the request carries both filters: {q}"
        );
        assert!(
            after.iter().all(|r| r.status == 200),
            "no list request was refused (e.g. a token reused across filters): {after:?}"
        );

        // Back restores the previous filter, in the URL, the selects and the rows.
        h.browser().back().await?;
        poll_until("?channel=sms again after Back", SCREEN, || async {
            Ok((url_query(h).await? == "channel=sms").then_some(()))
        })
        .await?;
        let agent_value = h
            .wait_for("select#filter-agent", SCREEN)
            .await?
            .prop("value")
            .await?;
        assert_eq!(
            agent_value.as_deref(),
            Some(""),
            "the agent select is back to all agents"
        );
        let channel_value = h
            .wait_for("select#filter-channel", SCREEN)
            .await?
            .prop("value")
            .await?;
        assert_eq!(channel_value.as_deref(), Some("sms"));
        assert_rows_match_api(h, "channel=sms", "the SMS filter after Back").await?;
        // Back to an option picked by hand before: the select follows the list, though such an
        // option no longer follows its `selected` attribute.
        select(h, "select#filter-channel", "").await?;
        poll_until("no filter in the URL", SCREEN, || async {
            Ok(url_query(h).await?.is_empty().then_some(()))
        })
        .await?;
        h.browser().back().await?;
        poll_until("the SMS option shown again after Back", SCREEN, || async {
            let value = h
                .wait_for("select#filter-channel", SCREEN)
                .await?
                .prop("value")
                .await?;
            Ok(
                (url_query(h).await? == "channel=sms" && value.as_deref() == Some("sms"))
                    .then_some(()),
            )
        })
        .await?;
        assert_rows_match_api(h, "channel=sms", "the SMS filter after a second Back").await?;

        // Keyboard: focus the first row, j j k ArrowDown → row 2, Enter opens it.
        h.browser()
            .execute(
                "document.querySelector(\"li.conversation-row[data-index='0'] a\").focus();",
                vec![],
            )
            .await?;
        wait_focused_row(h, 0).await?;
        h.press(&['j']).await?;
        wait_focused_row(h, 1).await?;
        h.press(&['j']).await?;
        wait_focused_row(h, 2).await?;
        h.press(&['k']).await?;
        wait_focused_row(h, 1).await?;
        h.press(&[Key::Down.into()]).await?;
        wait_focused_row(h, 2).await?;
        h.press(&[Key::Up.into()]).await?;
        wait_focused_row(h, 1).await?;
        h.press(&[Key::Down.into()]).await?;
        wait_focused_row(h, 2).await?;
        let target = h
            .browser()
            .find(Locator::Css("li.conversation-row[data-index='2']"))
            .await?
            .attr("data-conversation-id")
            .await?
            .ok_or_else(|| anyhow!("row 2 has no id"))?;
        h.press(&[Key::Enter.into()]).await?;
        h.wait_for_path(&format!("/conversations/{target}"), SCREEN)
            .await?;
        wait_thread(h, &target).await?;
        assert_eq!(
            url_query(h).await?,
            "channel=sms",
            "opening a conversation keeps the filters"
        );
        assert_no_crash(h).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_conversations_keep_the_dom_small() {
    let mut opts = Options::default();
    opts.sim.size = SeedSize::Large;
    with_harness(opts, async |h: &Harness| {
        sign_in(h).await?;
        const TARGET: usize = 5_000;
        let mut max_rows = 0;
        let mut loaded = 0;
        let started = std::time::Instant::now();
        while loaded < TARGET {
            scroll_list(h, None).await?;
            let before = loaded;
            let s = poll_until(
                &format!("more than {before} conversations to load by scrolling"),
                SCREEN,
                || async {
                    let s = list_state(h).await?;
                    Ok((s.loaded > before).then_some(s))
                },
            )
            .await?;
            max_rows = max_rows.max(s.rows);
            loaded = s.loaded;
        }
        eprintln!(
            "loaded {loaded} conversations by scrolling in {:?}; at most {max_rows} rows in the DOM",
            started.elapsed()
        );
        assert!(
            max_rows < 60,
            "with {loaded} loaded, at most {max_rows} rows may be in the DOM (< 60)"
        );

        // Deep in the list the rows are the right ones: stitched pages, no gaps or repeats.
        let all = ids(&api_list_all(h, "").await?);
        let index = 4_321;
        scroll_list(h, Some(index as f64 * ROW_HEIGHT)).await?;
        let want = all[index].clone();
        poll_until(&format!("row {index} to render"), SCREEN, || async {
            let ids = h
                .attrs(
                    &format!("li.conversation-row[data-index='{index}']"),
                    "data-conversation-id",
                )
                .await?;
            Ok((ids.first().cloned().flatten().as_deref() == Some(want.as_str())).then_some(()))
        })
        .await?;
        let in_dom = count(h, ROW).await?;
        assert!(in_dom < 60, "{in_dom} rows in the DOM deep in the list");
        for (row, index) in h
            .browser()
            .execute(
                "return Array.from(document.querySelectorAll(arguments[0]), r =>
                   [r.getAttribute('data-conversation-id'), Number(r.getAttribute('data-index'))]);",
                vec![json!(ROW)],
            )
            .await?
            .as_array()
            .ok_or_else(|| anyhow!("no rows"))?
            .iter()
            .map(|p| (p[0].as_str().unwrap_or_default().to_string(), p[1].as_u64().unwrap_or(u64::MAX) as usize))
        {
            assert_eq!(
                all.get(index),
                Some(&row),
                "row {index} shows the API's conversation {index}"
            );
        }

        // A taller window shows more rows at once: no scrolling needed to fill it.
        const COVERAGE: &str = r#"const s = document.querySelector('.conversation-scroller');
            const last = Math.max(...Array.from(document.querySelectorAll('li.conversation-row'),
              r => Number(r.getAttribute('data-index'))));
            return { height: s.clientHeight, covered: (last + 1) * arguments[0] - s.scrollTop };"#;
        let before = h.browser().execute(COVERAGE, vec![json!(ROW_HEIGHT)]).await?;
        let height_before = before["height"].as_f64().unwrap_or_default();
        h.browser().set_window_size(1280, 1800).await?;
        poll_until("rows to fill the taller list", SCREEN, || async {
            let now = h.browser().execute(COVERAGE, vec![json!(ROW_HEIGHT)]).await?;
            let (height, covered) = (now["height"].as_f64(), now["covered"].as_f64());
            Ok(height
                .zip(covered)
                .is_some_and(|(height, covered)| height > height_before + 500.0 && covered >= height)
                .then_some(()))
        })
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A later page that fails is asked for once: the list says so and waits for the operator (it
/// asked again as soon as the answer came, without end, a banner flickering meanwhile).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_fails_is_asked_for_once_until_the_operator_retries() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let first = list_state(h).await?.loaded;
        // 403 is not retried by the client: each request the list makes shows in the log. (A
        // 400, a refused token, starts the list over: the next test.)
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "status": 403 }),
        )
        .await?;
        clear_requests(h).await?;
        scroll_list(h, None).await?;
        h.wait_for("#error-banner", SCREEN).await?;
        settle("any further request", Duration::from_secs(2)).await;
        let pages = requests(h, "GET", |p| p == "/v1/conversations")
            .await?
            .into_iter()
            .filter(|r| r.query.as_deref().unwrap_or("").contains("page_token"))
            .count();
        assert_eq!(pages, 1, "the failed page was asked for once");
        assert_eq!(count(h, "#error-banner").await?, 1, "and the page says so");

        clear_faults(h).await?;
        h.click("#error-banner button").await?;
        poll_until("the next page after Try again", SCREEN, || async {
            Ok((list_state(h).await?.loaded > first).then_some(()))
        })
        .await?;
        assert_eq!(count(h, "#error-banner").await?, 0);
        assert_no_crash(h).await
    })
    .await;
}

/// The fault that refuses (`status`, 400 as API.md has it) the next `count` requests for a
/// later page, by their token: the list's own poll, which asks for its first page, is not
/// refused.
async fn refuse_later_pages(h: &Harness, count: u32, status: u16) -> Result<()> {
    fault(
        h,
        json!({ "route": "GET /v1/conversations", "status": status, "count": count,
                "query_contains": "page_token" }),
    )
    .await
}

/// The list scrolled to its second page (the first held `first` rows): a list started over
/// has fewer rows than that, which a poll of the first page alone does not give.
async fn two_pages_listed(h: &Harness, first: usize) -> Result<()> {
    scroll_list(h, None).await?;
    poll_until("the second page", SCREEN, || async {
        Ok((list_state(h).await?.loaded > first).then_some(()))
    })
    .await
}

/// The next page is refused once (`status`, its token).
async fn refuse_the_next_page(h: &Harness, status: u16) -> Result<()> {
    refuse_later_pages(h, 1, status).await?;
    clear_requests(h).await?;
    scroll_list(h, None).await?;
    poll_until("a page refused", SCREEN, || async {
        let asked = requests(h, "GET", |p| p == "/v1/conversations").await?;
        Ok(asked.into_iter().find(|r| r.status == status))
    })
    .await?;
    Ok(())
}

/// A page whose token Voicebip refuses (400: expired, say) starts the list over from the newest
/// page: asked for again with the same token, it was refused for good, and Try again with it.
/// Once: refused again, the list says so and waits for the operator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_page_token_starts_the_list_over_once() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let first = list_state(h).await?.loaded;
        two_pages_listed(h, first).await?;
        refuse_the_next_page(h, 400).await?;
        poll_until("the list asked for from the start", SCREEN, || async {
            let asked = requests(h, "GET", |p| p == "/v1/conversations").await?;
            let tokens: Vec<bool> = asked
                .iter()
                .map(|r| r.query.as_deref().unwrap_or("").contains("page_token"))
                .collect();
            Ok(tokens.windows(2).any(|w| w[0] && !w[1]).then_some(()))
        })
        .await?;
        poll_until("the newest page listed again", SCREEN, || async {
            Ok((list_state(h).await?.loaded == first).then_some(()))
        })
        .await?;
        assert_eq!(count(h, "#error-banner").await?, 0, "nothing to retry");
        // Refused again: no second start over (a server refusing every token would send the
        // list back to its top at each page), but the failure, with Try again.
        refuse_the_next_page(h, 400).await?;
        h.wait_for("#error-banner", SCREEN).await?;
        clear_faults(h).await?;
        h.click("#error-banner button").await?;
        poll_until("the next page", SCREEN, || async {
            Ok((list_state(h).await?.loaded > first).then_some(()))
        })
        .await?;
        // A place taken since, a refusal later on (a console kept open all day) is a new one:
        // the list starts over again, rather than failing at every Try again. Refused as
        // another API may (410 Gone, not API.md's 400), alike.
        refuse_the_next_page(h, 410).await?;
        poll_until("the newest page listed once more", SCREEN, || async {
            Ok((list_state(h).await?.loaded == first).then_some(()))
        })
        .await?;
        assert_eq!(count(h, "#error-banner").await?, 0, "nothing to retry");
        assert_no_crash(h).await
    })
    .await;
}

/// A place refused again once the list has started over is refused for good: asking with it
/// again would be refused again, and Try again (the operator's choice) starts the list over
/// rather than fail the same way at each press.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_again_after_a_second_refused_place_starts_the_list_over() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let first = list_state(h).await?.loaded;
        two_pages_listed(h, first).await?;
        refuse_the_next_page(h, 400).await?;
        poll_until("the newest page listed again", SCREEN, || async {
            Ok((list_state(h).await?.loaded == first).then_some(()))
        })
        .await?;
        refuse_the_next_page(h, 400).await?;
        h.wait_for("#error-banner", SCREEN).await?;
        // The place is dead: the Try again's request with it is refused too.
        refuse_later_pages(h, 1, 400).await?;
        clear_requests(h).await?;
        h.click("#error-banner button").await?;
        poll_until("the list asked for from the start", SCREEN, || async {
            let asked = requests(h, "GET", |p| p == "/v1/conversations").await?;
            Ok(asked
                .iter()
                .any(|r| {
                    r.status == 200 && !r.query.as_deref().unwrap_or("").contains("page_token")
                })
                .then_some(()))
        })
        .await?;
        poll_until(
            "the list shown again, without the failure",
            SCREEN,
            || async {
                let state = list_state(h).await?;
                let banner = count(h, "#error-banner").await?;
                Ok((state.loaded >= first && banner == 0).then_some(()))
            },
        )
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A list started over (another filter) is the keyboard's from its first row: Tab from the
/// filters went to the old list's place, a row below the new first screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_filter_change_tab_goes_to_the_first_row() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        focus_first_row(h).await?;
        h.press(&[Key::End.into()]).await?;
        poll_until("the keyboard far down the list", SCREEN, || async {
            let at = focused_row(h).await?.and_then(|i| i.parse::<usize>().ok());
            Ok(at.filter(|&i| i >= 40).map(drop))
        })
        .await?;
        h.browser()
            .execute(
                "const s = document.getElementById('filter-channel'); s.value = 'sms'; \
                 s.dispatchEvent(new Event('change', { bubbles: true })); s.focus();",
                vec![],
            )
            .await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        poll_until("the SMS list", SCREEN, || async {
            let query = h
                .browser()
                .execute("return location.search;", vec![])
                .await?;
            let rows = count(h, ROW).await?;
            Ok((query == json!("?channel=sms") && rows > 0).then_some(()))
        })
        .await?;
        settle("the new list in", Duration::from_millis(300)).await;
        h.press(&[Key::Tab.into()]).await?;
        wait_focused_row(h, 0).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// `id`'s row at the top of the list: after the list's next poll (one interval, 10 s, and its
/// request), with room for a busy machine.
async fn wait_at_top(h: &Harness, id: &str) -> Result<()> {
    let top = format!("{ROW}[data-index='0']");
    poll_until(
        &format!("{id} at the top"),
        Duration::from_secs(30),
        || async {
            Ok(attr_is(h, &top, "data-conversation-id", id)
                .await?
                .then_some(()))
        },
    )
    .await
}

/// A customer of `written` writes: the list's next poll (within one poll interval, 10 s, and its
/// request) brings it to the top, and the focus stays on `focused`'s row, now at `index`.
async fn written_to_keeps_the_focus(
    h: &Harness,
    written: &str,
    focused: &str,
    index: usize,
) -> Result<()> {
    inject(h, written, "Any news on my refund?").await?;
    wait_at_top(h, written).await?;
    wait_focused_row(h, index).await?;
    let on = h
        .browser()
        .execute(
            "return document.activeElement.closest('li').getAttribute('data-conversation-id');",
            vec![],
        )
        .await?;
    assert_eq!(on.as_str(), Some(focused));
    Ok(())
}

/// The keyboard keeps its row while the list refreshes: a poll that brings a conversation to
/// the top moves every row down, which rebuilds them, and the focus fell to the page's start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyboard_keeps_its_row_when_a_refresh_moves_the_rows() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let ids = row_ids(h).await?;
        let (on, next, far, farther) = match ids.as_slice() {
            [_, _, on, next, .., farther, far] if ids.len() > 7 => {
                (on.clone(), next.clone(), far.clone(), farther.clone())
            }
            _ => return Err(anyhow!("need more rows, got {ids:?}")),
        };
        focus_first_row(h).await?;
        h.press(&[Key::Down.into(), Key::Down.into()]).await?;
        wait_focused_row(h, 2).await?;

        // The same conversation, one row down, keeps the focus; the keys go on from there.
        written_to_keeps_the_focus(h, &far, &on, 3).await?;
        h.press(&[Key::Down.into()]).await?;
        wait_focused_row(h, 4).await?;
        assert!(
            attr_is(
                h,
                &format!("{ROW}[data-index='4']"),
                "data-conversation-id",
                &next
            )
            .await?
        );

        // With the focus elsewhere, the list's tab stop stays on the keyboard's conversation
        // as a poll moves the rows: Tab, then Enter, find it, not what now sits in its place.
        h.browser()
            .execute("document.activeElement.blur();", vec![])
            .await?;
        inject(h, &farther, "Is anyone there?").await?;
        wait_at_top(h, &farther).await?;
        let stop = h
            .browser()
            .execute(
                "const a = document.querySelector(\"#conversation-list a[tabindex='0']\"); \
                 return a && a.closest('li').getAttribute('data-conversation-id');",
                vec![],
            )
            .await?;
        assert_eq!(
            stop.as_str(),
            Some(next.as_str()),
            "the tab stop followed its row"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// Whether the focused element is the one `mark_focused` marked: the same element, not one made
/// in its place.
async fn focus_is_marked(h: &Harness) -> Result<bool> {
    let v = h
        .browser()
        .execute(
            "return document.activeElement.dataset.testMark === '1';",
            vec![],
        )
        .await?;
    Ok(v == json!(true))
}

async fn mark_focused(h: &Harness) -> Result<()> {
    h.browser()
        .execute("document.activeElement.dataset.testMark = '1';", vec![])
        .await?;
    Ok(())
}

/// A conversation opened from the list with Enter leaves the focus on its row, where a screen
/// reader user reads the thread with the reader's own cursor: news of it, and a new
/// conversation above it, change the row in place. Each rebuilt it, and the focus given back to
/// the new row had the screen reader read the row out again, away from the thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_changes_the_focused_row_in_place() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let first = row_ids(h)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("no row"))?;
        focus_first_row(h).await?;
        h.press(&[Key::Enter.into()]).await?;
        wait_thread(h, &first).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        wait_focused_row(h, 0).await?;
        mark_focused(h).await?;

        // Its customer writes: the thread shows it, and the row its time.
        let time = format!("{ROW}[data-index='0'] time");
        let before = h.attrs(&time, "datetime").await?;
        inject(h, &first, "One more question").await?;
        wait_message(h, "One more question", "shown", |_| true).await?;
        poll_until("the row's time moved on", SCREEN, || async {
            Ok((h.attrs(&time, "datetime").await? != before).then_some(()))
        })
        .await?;
        assert!(
            focus_is_marked(h).await?,
            "the same row element has the focus"
        );

        // Another customer writes in for the first time: a row above it at the next poll.
        let agent = str_field(&api_conversation(h, &first).await?, "agent_id")?;
        let created = h
            .sim_post(
                "/sim/inbound",
                &json!({ "agent_id": agent, "channel": "sms",
                         "from_number": "+2348090000321", "body": "Hello, new here" }),
            )
            .await?;
        let new_id = str_field(&created, "conversation_id")?;
        wait_at_top(h, &new_id).await?;
        wait_focused_row(h, 1).await?;
        assert!(
            focus_is_marked(h).await?,
            "the same row element has the focus"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// The keyboard's row, far down the list, goes to the top as its customer writes: the list
/// follows it there, and the focus stays on its conversation in view, where it fell on another
/// conversation's row above the screen (which Enter then opened).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyboards_row_is_followed_to_the_top() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        poll_until("40 rows loaded", SCREEN, || async {
            Ok((list_state(h).await?.loaded > 40).then_some(()))
        })
        .await?;
        scroll_list(h, Some(30.0 * ROW_HEIGHT)).await?;
        let row = format!("{ROW}[data-index='36']");
        h.wait_for(&row, SCREEN).await?;
        let id = h
            .attrs(&row, "data-conversation-id")
            .await?
            .into_iter()
            .next()
            .flatten()
            .context("the row's conversation")?;
        h.browser()
            .execute(
                "document.querySelector(arguments[0] + ' a').focus({ preventScroll: true });",
                vec![json!(row)],
            )
            .await?;
        wait_focused_row(h, 36).await?;
        inject(h, &id, "Any news on my refund?").await?;
        // (A poll brings it: one interval, 10 s, and its request.)
        poll_until(
            "the focus on its conversation, at the top",
            Duration::from_secs(30),
            || async {
                let on = h
                    .browser()
                    .execute(
                        "const li = document.activeElement.closest('li.conversation-row');
                         return li && [li.getAttribute('data-conversation-id'),
                                       li.getAttribute('data-index')];",
                        vec![],
                    )
                    .await?;
                Ok((on == json!([id, "0"])).then_some(()))
            },
        )
        .await?;
        assert!(focus_in_view(h).await?, "the focused row is in view");
        assert_no_crash(h).await
    })
    .await;
}

/// The keyboard's row pushed down out of the rows drawn by news above it (another
/// conversation's customer wrote) stays where it is: the list does not jump to it, away from
/// what the operator was reading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_above_the_keyboards_row_does_not_move_the_list() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        poll_until("40 rows loaded", SCREEN, || async {
            Ok((list_state(h).await?.loaded > 40).then_some(()))
        })
        .await?;
        let row_id = async |index: usize| {
            let row = format!("{ROW}[data-index='{index}']");
            h.wait_for(&row, SCREEN).await?;
            h.attrs(&row, "data-conversation-id")
                .await?
                .into_iter()
                .next()
                .flatten()
                .context("the row's conversation")
        };
        scroll_list(h, Some(36.0 * ROW_HEIGHT)).await?;
        let written = row_id(38).await?;
        scroll_list(h, Some(8.0 * ROW_HEIGHT)).await?;
        row_id(8).await?;
        // The last row drawn, below the screen, has the focus.
        let last = h
            .browser()
            .execute(
                "const rows = [...document.querySelectorAll('li.conversation-row')];
                 const li = rows[rows.length - 1];
                 li.querySelector('a').focus({ preventScroll: true });
                 return +li.getAttribute('data-index');",
                vec![],
            )
            .await?
            .as_u64()
            .context("the last row's index")? as usize;
        assert!(last < 38, "row 38 is not drawn: {last}");
        wait_focused_row(h, last).await?;
        let kept = row_id(last).await?;
        let top = async || {
            let v = h
                .browser()
                .execute(
                    "return document.querySelector('.conversation-scroller').scrollTop;",
                    vec![],
                )
                .await?;
            Ok::<_, voicebip_e2e::anyhow::Error>(v.as_f64().unwrap_or_default())
        };
        let before = top().await?;
        inject(h, &written, "Any news on my refund?").await?;
        // (A poll brings it, and the list says so.)
        wait_text(
            h,
            "#live-announcer",
            "New message from",
            Duration::from_secs(30),
        )
        .await?;
        // Pushed one row down, past the rows drawn: still the keyboard's row, where the focus
        // went to the conversation that took its place.
        wait_focused_row(h, last + 1).await?;
        assert_eq!(
            row_id(last + 1).await?,
            kept,
            "the focus on the same conversation"
        );
        settle("a jump, were there one", Duration::from_millis(500)).await;
        let after = top().await?;
        assert!(
            (after - before).abs() <= 2.0 * ROW_HEIGHT,
            "the list stayed: scrolled from {before} to {after}"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// The operator leaves the browser's window (another app, another tab) with the keyboard on a
/// row: a poll that moves the rows meanwhile gives the focus back to that row, where it fell to
/// the page's start (the row's focusout, with nothing related, was read as the operator leaving
/// the row for the page). Shift+Enter on a row is the browser's, not the list's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyboards_row_outlasts_leaving_the_window() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let ids = row_ids(h).await?;
        let (on, far) = match ids.as_slice() {
            [_, _, on, .., far] if ids.len() > 4 => (on.clone(), far.clone()),
            _ => return Err(anyhow!("need more rows, got {ids:?}")),
        };
        focus_first_row(h).await?;
        h.press(&[Key::Down.into(), Key::Down.into()]).await?;
        wait_focused_row(h, 2).await?;
        // What the browser does as its window loses the focus: the element keeps it (the
        // page's focused element, focused again with the window) and hears a focusout with
        // nothing related.
        h.browser()
            .execute(
                "document.activeElement.dispatchEvent(
                   new FocusEvent('focusout', { bubbles: true, relatedTarget: null }));",
                vec![],
            )
            .await?;
        settle("a frame after it", Duration::from_millis(200)).await;
        written_to_keeps_the_focus(h, &far, &on, 3).await?;

        let prevented = h
            .browser()
            .execute(
                "const ev = new KeyboardEvent('keydown',
                   { key: 'Enter', shiftKey: true, bubbles: true, cancelable: true });
                 document.activeElement.dispatchEvent(ev);
                 return ev.defaultPrevented;",
                vec![],
            )
            .await?;
        assert_eq!(prevented, json!(false), "Shift+Enter left to the browser");
        assert_no_crash(h).await
    })
    .await;
}

/// The same after Home (or End): the row the focus left is taken out of the page as the list
/// scrolls, and the list forgot the row the focus went to, so the next poll's rebuild dropped
/// the focus to the page's start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyboard_keeps_its_row_after_home_when_a_refresh_moves_the_rows() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        // A short window: few rows rendered, so End and Home take the row left out of the page.
        h.browser().set_window_size(1000, 420).await?;
        let ids = row_ids(h).await?;
        let first = ids.first().cloned().ok_or_else(|| anyhow!("no rows"))?;
        // Written to, it comes to the top (a closed one's customer would start a new one).
        let mut far = None;
        for id in ids.iter().skip(3).rev() {
            if api_conversation(h, id).await?["ai_mode"] != "closed" {
                far = Some(id.clone());
                break;
            }
        }
        let far = far.ok_or_else(|| anyhow!("no open conversation below the third in {ids:?}"))?;
        focus_first_row(h).await?;
        h.press(&[Key::End.into()]).await?;
        poll_until("a row far down to have the focus", SCREEN, || async {
            let at = focused_row(h).await?.and_then(|i| i.parse::<usize>().ok());
            Ok(at.filter(|i| *i >= ids.len()).map(|_| ()))
        })
        .await?;
        h.press(&[Key::Home.into()]).await?;
        wait_focused_row(h, 0).await?;

        written_to_keeps_the_focus(h, &far, &first, 1).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The rows' tab stops: exactly one rendered row is in the tab order (the roving tabindex).
async fn tab_stops(h: &Harness) -> Result<u64> {
    let v = h
        .browser()
        .execute(
            "return document.querySelectorAll(\"#conversation-list a[tabindex='0']\").length;",
            vec![],
        )
        .await?;
    v.as_u64().ok_or_else(|| anyhow!("no count: {v}"))
}

/// The keyboard's row is far down the list, then out of it: the list keeps one row in the tab
/// order, or a keyboard user could no longer enter it (Tab would skip it, and with it j/k).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_stays_in_the_tab_order_when_its_rows_change() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        focus_first_row(h).await?;
        wait_focused_row(h, 0).await?;
        assert_eq!(tab_stops(h).await?, 1);
        // Page Down and Page Up move the keyboard's row a screen at a time, in view (the
        // browser scrolled the list alone, and the focus fell on a row out of sight).
        h.press(&[Key::PageDown.into()]).await?;
        let paged = poll_until("the keyboard a screen down", SCREEN, || async {
            let at = focused_row(h).await?.and_then(|i| i.parse::<usize>().ok());
            Ok(at.filter(|&i| i >= 5))
        })
        .await?;
        assert!(focus_in_view(h).await?, "row {paged}, focused, is in view");
        h.press(&[Key::PageUp.into()]).await?;
        wait_focused_row(h, 0).await?;
        // End: the last row loaded, at the end of the list (which then loads a page more).
        let loaded = list_state(h).await?.loaded;
        assert!(
            loaded > 20,
            "more rows loaded than a screen holds: {loaded}"
        );
        h.press(&[Key::End.into()]).await?;
        wait_focused_row(h, loaded - 1).await?;

        // Scrolled back to the top, the keyboard's row is no longer rendered.
        h.browser()
            .execute("document.activeElement.blur();", vec![])
            .await?;
        scroll_list(h, Some(0.0)).await?;
        h.wait_for(&format!("{ROW}[data-index='0']"), SCREEN)
            .await?;
        let keyboards = format!("{ROW}[data-index='{}']", loaded - 1);
        assert_eq!(
            count(h, &keyboards).await?,
            0,
            "the keyboard's row not rendered"
        );
        poll_until("one row in the tab order at the top", SCREEN, || async {
            Ok((tab_stops(h).await? == 1).then_some(()))
        })
        .await?;

        // A filter with fewer rows than the keyboard's index.
        select(h, "select#filter-channel", "whatsapp").await?;
        poll_until("the WhatsApp filter", SCREEN, || async {
            Ok((url_query(h).await? == "channel=whatsapp").then_some(()))
        })
        .await?;
        // What the new list holds is read out (the footer that shows it is not reliably read).
        wait_text(h, "#live-announcer", "conversations", SCREEN).await?;
        h.wait_for(&format!("{ROW}[data-index='0']"), SCREEN)
            .await?;
        poll_until(
            "one row in the tab order after filtering",
            SCREEN,
            || async { Ok((tab_stops(h).await? == 1).then_some(())) },
        )
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The id of the row at `index`, with the list scrolled to it (rows are rendered only near the
/// viewport).
async fn row_at(h: &Harness, index: usize) -> Result<Option<String>> {
    let v = h
        .browser()
        .execute(
            r#"const s = document.querySelector('.conversation-scroller');
               const second = document.querySelector("li.conversation-row[data-index='1']");
               s.scrollTop = arguments[0] * (second ? second.offsetTop : 0);
               s.dispatchEvent(new Event('scroll'));
               const row = document.querySelector(`li.conversation-row[data-index='${arguments[0]}']`);
               return row ? row.getAttribute('data-conversation-id') : null;"#,
            vec![json!(index)],
        )
        .await?;
    Ok(v.as_str().map(str::to_string))
}

/// More conversations come in between two polls than a page holds: the list starts over from the
/// poll's page and pages down through the rest, rather than leave those below that page out
/// for good (the old rows' next page comes after all of them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_news_than_a_page_between_two_polls_leaves_no_gap() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        let first = api_list(h, "page_size=1").await?;
        let agent = str_field(&first["conversations"][0], "agent_id")?;
        // 60 new conversations at once, newer than all others: more than the poll's page (50).
        let bulk = h
            .sim_post("/sim/bulk", &json!({ "agent_id": agent, "count": 60 }))
            .await?;
        let (oldest, newest) = (
            str_field(&bulk, "first_conversation_id")?,
            str_field(&bulk, "last_conversation_id")?,
        );
        poll_until(
            "the newest at the top, after a poll",
            Duration::from_secs(30),
            || async {
                Ok((row_at(h, 0).await?.as_deref() == Some(newest.as_str())).then_some(()))
            },
        )
        .await?;
        // The oldest of the 60 is the list's 60th row, once scrolling has paged down to it.
        poll_until("the oldest new conversation 60th", SCREEN, || async {
            Ok((row_at(h, 59).await?.as_deref() == Some(oldest.as_str())).then_some(()))
        })
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Signs in and scrolls the list down until three pages (120 rows and more) are loaded.
async fn sign_in_with_three_pages(h: &Harness) -> Result<()> {
    sign_in(h).await?;
    h.wait_for_all(ROW, 1, SCREEN).await?;
    poll_until("three pages loaded", SCREEN, || async {
        scroll_list(h, None).await?;
        Ok((list_state(h).await?.loaded >= 120).then_some(()))
    })
    .await
}

/// More news than a page between two polls, but not more than a few: the poll asks for the
/// pages after its first down to the rows listed, and the list goes on where the operator reads
/// (started over from the newest page, a workspace that busy sent them to its top at each poll).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_news_than_a_page_keeps_the_pages_loaded_and_the_place() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in_with_three_pages(h).await?;
        let loaded = list_state(h).await?.loaded;
        scroll_list(h, Some(100.0 * ROW_HEIGHT)).await?;
        let first = api_list(h, "page_size=1").await?;
        let agent = str_field(&first["conversations"][0], "agent_id")?;
        h.sim_post("/sim/bulk", &json!({ "agent_id": agent, "count": 60 }))
            .await?;
        poll_until(
            "the 60 new above the pages loaded",
            Duration::from_secs(30),
            || async { Ok((list_state(h).await?.loaded >= loaded + 60).then_some(())) },
        )
        .await?;
        let top = h
            .browser()
            .execute(
                "return document.querySelector('.conversation-scroller').scrollTop;",
                vec![],
            )
            .await?;
        assert!(top.as_f64() > Some(0.0), "not sent to the top: {top}");
        assert_no_crash(h).await
    })
    .await;
}

/// A poll that starts the list over (more news than a page) shows it from its top, where the
/// news is: the old list's place, far down, put the new first page's end in view, and the
/// next page was asked for at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_a_poll_starts_over_is_shown_from_its_top() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in_with_three_pages(h).await?;
        scroll_list(h, Some(100.0 * ROW_HEIGHT)).await?;
        let first = api_list(h, "page_size=1").await?;
        let agent = str_field(&first["conversations"][0], "agent_id")?;
        // More news than the poll's first page and the few it follows down to the rows listed.
        let bulk = h
            .sim_post("/sim/bulk", &json!({ "agent_id": agent, "count": 260 }))
            .await?;
        let newest = str_field(&bulk, "last_conversation_id")?;
        poll_until(
            "the newest at the top, in view, after a poll",
            Duration::from_secs(30),
            || async {
                let v = h
                    .browser()
                    .execute(
                        r#"const row = document.querySelector("li.conversation-row[data-index='0']");
                           return [document.querySelector('.conversation-scroller').scrollTop,
                                   row ? row.getAttribute('data-conversation-id') : null];"#,
                        vec![],
                    )
                    .await?;
                Ok((v == json!([0, newest])).then_some(()))
            },
        )
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The SMS list with the focus in its footer (on Load more, or, `at_end`, on the list's end,
/// where Load more pressed through every page hands it on), then Back to the unfiltered list:
/// the focus goes to the new list (or the screen's content while it loads), not to the page's
/// start.
async fn back_from_the_footer_keeps_the_focus(h: &Harness, at_end: bool) -> Result<()> {
    sign_in(h).await?;
    select(h, "select#filter-channel", "sms").await?;
    poll_until("the SMS list", SCREEN, || async {
        Ok((url_query(h).await? == "channel=sms").then_some(()))
    })
    .await?;
    h.wait_for("#load-more", SCREEN).await?;
    h.browser()
        .execute("document.getElementById('load-more').focus();", vec![])
        .await?;
    if at_end {
        poll_until("the list's end, with the focus", SCREEN, || async {
            if focus_in(h, ".list-footer .end").await? {
                return Ok(Some(()));
            }
            if focus_in(h, "#load-more").await? {
                h.press(&[Key::Enter.into()]).await?;
                settle("the next page", Duration::from_millis(300)).await;
            }
            Ok(None)
        })
        .await?;
    } else {
        wait_focus_in(h, "#load-more", SCREEN).await?;
    }
    h.browser().back().await?;
    poll_until("the unfiltered list after Back", SCREEN, || async {
        Ok(url_query(h).await?.is_empty().then_some(()))
    })
    .await?;
    h.wait_for_all(ROW, 1, SCREEN).await?;
    wait_focus_in(h, "#main", SCREEN).await?;
    assert_no_crash(h).await
}

/// Load more, with the keyboard's focus on it, goes with its list when Back brings other
/// filters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_other_filters_keeps_the_focus_of_load_more() {
    with_harness(Options::default(), async |h: &Harness| {
        back_from_the_footer_keeps_the_focus(h, false).await
    })
    .await;
}

/// The same with the focus on the list's end ("That's all of them."): Back took it away, and
/// the focus fell to the page's start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_other_filters_keeps_the_focus_of_the_lists_end() {
    with_harness(Options::default(), async |h: &Harness| {
        back_from_the_footer_keeps_the_focus(h, true).await
    })
    .await;
}

/// Arrowing through the channel filter (a closed select fires `change` at each option passed)
/// is one step in the history: Back returns to the list before the run, where it went back
/// through every option passed on the way. Back ends the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrowing_through_a_filter_is_one_step_back() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        let length = async || {
            let v = h
                .browser()
                .execute("return history.length;", vec![])
                .await?;
            Ok::<_, voicebip_e2e::anyhow::Error>(v.as_u64().unwrap_or_default())
        };
        let before = length().await?;
        h.browser()
            .execute("document.getElementById('filter-channel').focus();", vec![])
            .await?;
        // All, SMS, WhatsApp: two steps down.
        h.press(&[Key::Down.into()]).await?;
        h.press(&[Key::Down.into()]).await?;
        poll_until("the WhatsApp list", SCREEN, || async {
            Ok((url_query(h).await? == "channel=whatsapp").then_some(()))
        })
        .await?;
        assert_eq!(length().await?, before + 1, "one step for the run");
        h.browser().back().await?;
        poll_until("the unfiltered list after one Back", SCREEN, || async {
            Ok(url_query(h).await?.is_empty().then_some(()))
        })
        .await?;
        // Back ended the run: the next change is a step of its own, and Back returns from it
        // to the unfiltered list, not out of the inbox.
        select(h, "select#filter-channel", "sms").await?;
        poll_until("the SMS list", SCREEN, || async {
            Ok((url_query(h).await? == "channel=sms").then_some(()))
        })
        .await?;
        h.browser().back().await?;
        poll_until("the unfiltered list again", SCREEN, || async {
            Ok(
                (h.path().await? == "/conversations" && url_query(h).await?.is_empty())
                    .then_some(()),
            )
        })
        .await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A list left for other filters while its first page is out: that page, answered late, is not
/// shown under the filters chosen since, nor mixed into their rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_page_of_filters_left_is_not_shown() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        const LATE: Duration = Duration::from_secs(8);
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "latency_ms": LATE.as_millis() as u64,
                    "query_contains": "channel=sms", "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        select(h, "select#filter-channel", "sms").await?;
        select(h, "select#filter-channel", "whatsapp").await?;
        assert_rows_match_api(h, "channel=whatsapp", "the WhatsApp list").await?;
        let loaded = list_state(h).await?.loaded;
        wait_list_answered(h, "channel=sms", LATE + SCREEN).await?;
        settle("its answer taken in, were it", Duration::from_millis(500)).await;
        assert_eq!(url_query(h).await?, "channel=whatsapp");
        // (Its rows, added, would sort below the top ones: counted.)
        assert_eq!(
            list_state(h).await?.loaded,
            loaded,
            "no row added by the late page"
        );
        assert_rows_match_api(
            h,
            "channel=whatsapp",
            "the WhatsApp list, after the late page",
        )
        .await?;
        assert_no_crash(h).await
    })
    .await;
}

/// One conversation replacing another (Back from one to the one before, as "Open it" under a
/// reply that went to a newer conversation does the other way) leaves the keyboard in the
/// conversation shown, not at the page's start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyboard_stays_in_the_thread_from_one_conversation_to_another() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let ids = row_ids(h).await?;
        let [a, b, ..] = ids.as_slice() else {
            return Err(anyhow!("fewer than two conversations listed"));
        };
        h.click(&format!("{ROW}[data-conversation-id='{a}'] a"))
            .await?;
        wait_thread(h, a).await?;
        h.click(&format!("{ROW}[data-conversation-id='{b}'] a"))
            .await?;
        wait_thread(h, b).await?;
        // On a control of the conversation shown (which ones depend on its mode and the
        // window's width).
        let on = h
            .browser()
            .execute(
                "[...document.querySelectorAll('#thread button, #thread textarea, #thread a')]
                   .find(e => e.offsetParent)?.focus();
                 return !!document.activeElement.closest('#thread');",
                vec![],
            )
            .await?;
        assert_eq!(on, json!(true), "a control of the thread has the focus");
        h.browser().back().await?;
        wait_thread(h, a).await?;
        wait_focus_in(h, ".thread-pane", SCREEN)
            .await
            .context("the focus left at the page's start")?;
        // From a conversation not found, too: its way back to the inbox had the focus.
        // (Within the page, as the app's own links go: Back then stays in it.)
        h.browser()
            .execute(
                "history.pushState(null, '', '/conversations/conv_surely_missing');
                 window.dispatchEvent(new PopStateEvent('popstate'));",
                vec![],
            )
            .await?;
        h.wait_for("#back-to-inbox", SCREEN).await?;
        h.browser()
            .execute("document.getElementById('back-to-inbox').focus();", vec![])
            .await?;
        h.browser().back().await?;
        wait_thread(h, a).await?;
        wait_focus_in(h, ".thread-pane", SCREEN)
            .await
            .context("the focus left at the page's start, from the not-found screen")?;
        assert_no_crash(h).await
    })
    .await;
}

/// The rows whose link carries the keys' help as its description.
async fn described_rows(h: &Harness) -> Result<Vec<String>> {
    let v = h
        .browser()
        .execute(
            "return [...document.querySelectorAll(\"#conversation-list a[aria-describedby='list-help']\")]
               .map(a => a.closest('li').getAttribute('data-index'));",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// The keys' help is read on the way into the list: it is the description of the row the Tab
/// key lands on (on the list, which never has the focus, it was never read), and no longer once
/// a key has moved in the list, where every row would repeat it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keys_help_is_read_on_the_way_into_the_list() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        assert_eq!(described_rows(h).await?, ["0"]);
        let help = h.texts("#list-help").await?.join("");
        assert!(help.contains("arrow keys"), "{help}");
        focus_first_row(h).await?;
        h.press(&[Key::Down.into()]).await?;
        wait_focused_row(h, 1).await?;
        assert!(described_rows(h).await?.is_empty());
        assert_no_crash(h).await
    })
    .await;
}
