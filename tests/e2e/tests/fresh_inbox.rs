//! A fresh inbox without a list-wide stream: the first page is polled while the tab is visible,
//! changes move up with an unread marker and the count in the title, several tabs poll once
//! between them and stay consistent, and the thread's stream follows the browser offline and
//! back online at once.

use crate::common::*;
use serde_json::json;
use std::time::Duration;
use voicebip_e2e::anyhow::{anyhow, ensure, Context, Result};
use voicebip_e2e::{poll_until, with_harness, Harness, Options, DEMO_KEY};

/// The console polls every `inbox_poll_seconds` (10 in `public/config.json`).
const POLL: Duration = Duration::from_secs(25);

/// A first-page list request (the refresh), as opposed to a later page.
fn is_first_page_list(r: &voicebip_e2e::LoggedRequest) -> bool {
    r.method == "GET"
        && r.path == "/v1/conversations"
        && !r.query.as_deref().unwrap_or("").contains("page_token")
}

/// The first pages of the list the simulator was asked for during `d` from now.
async fn first_page_polls_in(h: &Harness, what: &str, d: Duration) -> Result<usize> {
    clear_requests(h).await?;
    settle(what, d).await;
    Ok(h.sim_requests()
        .await?
        .into_iter()
        .filter(is_first_page_list)
        .count())
}

/// Has this tab count the list's first pages it asks for (`list_polls`).
async fn count_list_polls(h: &Harness) -> Result<()> {
    h.browser()
        .execute(
            "window.__listPolls = 0;
             const real = window.fetch.bind(window);
             window.fetch = (input, init) => {
               const url = typeof input === 'string' ? input : input.url;
               if (/\\/v1\\/conversations\\?/.test(url) && !url.includes('page_token'))
                 window.__listPolls += 1;
               return real(input, init);
             };",
            vec![],
        )
        .await
        .map(drop)
        .map_err(Into::into)
}

/// The list's first pages this tab asked for since [`count_list_polls`].
async fn list_polls(h: &Harness) -> Result<u64> {
    let n = h
        .browser()
        .execute("return window.__listPolls;", vec![])
        .await?;
    n.as_u64()
        .ok_or_else(|| anyhow!("no count in this tab: {n}"))
}

async fn title(h: &Harness) -> Result<String> {
    let v = h
        .browser()
        .execute("return document.title;", vec![])
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

/// Waits (`within`: a poll or two) until conversation `id` is the first row, marked unread.
async fn wait_first_and_unread(h: &Harness, id: &str, within: Duration) -> Result<()> {
    poll_until(&format!("{id} first, unread"), within, || async {
        let first = h.attrs(ROW, "data-conversation-id").await?;
        let unread = count(
            h,
            &format!("{ROW}[data-conversation-id='{id}'] .unread-marker"),
        )
        .await?;
        Ok((first.first().cloned().flatten().as_deref() == Some(id) && unread == 1).then_some(()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polled_inbox_marks_unread_shares_one_poller_and_follows_the_network() {
    with_harness(Options::default(), async |h: &Harness| {
        // Remembered on this device, so a second tab is signed in too.
        h.open("/").await?;
        h.wait_for("#remember", FIRST_SCREEN).await?;
        h.click("#remember").await?;
        h.connect(DEMO_KEY).await?;
        h.wait_for_path("/conversations", FIRST_SCREEN).await?;
        h.wait_for_all(ROW, 6, SCREEN).await?;
        assert_eq!(title(h).await?, "Voicebip console");

        // A customer writes in a conversation further down: after the next poll it is first,
        // marked unread, and counted in the title; nothing was reloaded by the operator.
        let ids = row_ids(h).await?;
        let moved = ids.get(5).cloned().ok_or_else(|| anyhow!("need 6 rows"))?;
        inject(h, &moved, "Hello? Anyone there?").await?;
        wait_first_and_unread(h, &moved, POLL).await?;
        assert_eq!(title(h).await?, "(1) Voicebip console");
        // Read out too, for an operator who does not see the marker come.
        wait_text(h, "#live-announcer", "New message from", SCREEN).await?;

        // Reading it clears the marker and the count.
        h.click(&format!("{ROW}[data-conversation-id='{moved}'] a"))
            .await?;
        wait_thread(h, &moved).await?;
        poll_until("the unread count to clear", SCREEN, || async {
            Ok((title(h).await? == "Voicebip console").then_some(()))
        })
        .await?;

        // A customer who writes in for the first time: a conversation the console has never
        // listed, first after the next poll, and unread as well.
        let agent = str_field(&api_conversation(h, &moved).await?, "agent_id")?;
        let created = h
            .sim_post(
                "/sim/inbound",
                &json!({ "agent_id": agent, "channel": "sms",
                         "from_number": "+2348090000001", "body": "Hi, first time here" }),
            )
            .await?;
        assert_eq!(created["new_conversation"], json!(true), "{created}");
        let new_id = str_field(&created, "conversation_id")?;
        wait_first_and_unread(h, &new_id, POLL).await?;
        assert_eq!(title(h).await?, "(1) Voicebip console");
        wait_text(
            h,
            "#live-announcer",
            "New message from +2348090000001",
            SCREEN,
        )
        .await?;

        // The stream follows the browser's network state: offline at once, back at once.
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        set_online(h, false).await?;
        wait_attr(h, "#connection-status", "data-state", "offline").await?;
        wait_subscribers(h, &moved, 0).await?;
        set_online(h, true).await?;
        wait_attr(h, "#connection-status", "data-state", "live").await?;
        wait_subscribers(h, &moved, 1).await?;

        // A second tab on the same device, shown while the first is hidden (hidden tabs do not
        // poll): it polls. (That two tabs in view poll once between them: the next test.) Each
        // tab counts its own polls; the first is hidden as a tab put in the background is (a
        // headless browser's background tab stays "visible").
        let first_tab = h.browser().window().await?;
        count_list_polls(h).await?;
        h.browser()
            .execute(
                "Object.defineProperty(document, 'hidden', { get: () => true });
                 Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
                 document.dispatchEvent(new Event('visibilitychange'));",
                vec![],
            )
            .await?;
        let second = h.browser().new_window(true).await?;
        h.browser().switch_to_window(second.handle.clone()).await?;
        h.open(&format!("/conversations/{moved}")).await?;
        wait_thread(h, &moved).await?;
        count_list_polls(h).await?;
        let polls = first_page_polls_in(h, "two tabs polling", Duration::from_secs(22)).await?;
        assert!(
            (1..=3).contains(&polls),
            "once per 10 s between them: {polls} polls in 22 s"
        );
        let shown = list_polls(h).await?;
        h.browser().switch_to_window(first_tab.clone()).await?;
        let hidden = list_polls(h).await?;
        assert!(
            hidden == 0 && shown >= 1,
            "the tab in view polls, the hidden one not: {shown} and {hidden}"
        );
        h.browser().switch_to_window(second.handle).await?;

        // A handoff in one tab shows in the other without a reload.
        let mode_before = h.attrs(".ai-mode-badge", "data-mode").await?;
        let action = match mode_before.first().cloned().flatten().as_deref() {
            Some("human") => ("#return-to-ai", "ai"),
            _ => ("#take-over", "human"),
        };
        h.click(action.0).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", action.1).await?;
        h.browser().switch_to_window(first_tab).await?;
        wait_attr(h, ".ai-mode-badge", "data-mode", action.1).await?;
        Ok(())
    })
    .await;
}

/// Two lists in view at once (two frames of one page here; two windows side by side for an
/// operator), one of every conversation and one of the WhatsApp ones: each is refreshed. (One
/// poll per device served the list that got it first, and the other list, which no page of the
/// first one's serves, never moved.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_lists_in_view_with_other_filters_both_refresh() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in_remembered(h, DEMO_KEY).await?;
        h.wait_for_all(ROW, 6, SCREEN).await?;
        let listed = row_ids(h).await?;
        let first = listed.first().ok_or_else(|| anyhow!("no row"))?;
        let agent = str_field(&api_conversation(h, first).await?, "agent_id")?;
        // Frame #a lists every conversation, #b the WhatsApp ones.
        two_consoles(h, "/conversations", "/conversations?channel=whatsapp").await?;
        settle("the lists' first polls", Duration::from_secs(11)).await;
        let created = h
            .sim_post(
                "/sim/inbound",
                &json!({ "agent_id": agent, "channel": "whatsapp",
                         "from_number": "+2348090000077", "body": "Hello on WhatsApp" }),
            )
            .await?;
        let new_id = str_field(&created, "conversation_id")?;
        for frame in ["#a", "#b"] {
            h.wait_for(frame, SCREEN).await?.enter_frame().await?;
            wait_first_and_unread(h, &new_id, POLL)
                .await
                .with_context(|| format!("the list in {frame}"))?;
            h.browser().enter_parent_frame().await?;
        }
        Ok(())
    })
    .await;
}

/// Two lists in view with the same filters on one device poll once between them (one tab
/// polls for all, and tells the others), not once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_lists_in_view_with_the_same_filters_poll_once_between_them() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in_remembered(h, DEMO_KEY).await?;
        two_consoles(h, "/conversations", "/conversations").await?;
        let polls = first_page_polls_in(h, "two lists polling", Duration::from_secs(22)).await?;
        assert!(
            (1..=3).contains(&polls),
            "one poll per 10 s between the two lists, not one each: {polls} polls in 22 s"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A reloaded tab polls on time: the poll lease it held is handed over as the page goes. A
/// reload is a new tab to the lease, and waited for the old one to lapse (2.5 polls), the list
/// standing still meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_list_polls_on_time() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        poll_until("the tab's first poll, and its lease", POLL, || async {
            let leases = h
                .browser()
                .execute(
                    "return Object.keys(localStorage)\
                       .filter(k => k.startsWith('voicebip.poll-leader')).length;",
                    vec![],
                )
                .await?;
            Ok((leases.as_u64() == Some(1)).then_some(()))
        })
        .await?;
        h.open("/conversations").await?;
        h.wait_for_all(ROW, 6, FIRST_SCREEN).await?;
        let moved = row_ids(h)
            .await?
            .get(5)
            .cloned()
            .ok_or_else(|| anyhow!("need 6 rows"))?;
        inject(h, &moved, "Still there?").await?;
        // The reloaded tab's first poll, 10 s after its start, with room for a busy machine;
        // not the old lease's 25 s.
        wait_first_and_unread(h, &moved, Duration::from_secs(16)).await
    })
    .await;
}

/// When the tab's poll lease ends (`until` in the browser's clock), and the browser's clock now.
async fn poll_lease_ends(h: &Harness) -> Result<(Option<u64>, u64)> {
    let v = h
        .browser()
        .execute(
            "const k = Object.keys(localStorage).find(k => k.startsWith('voicebip.poll-leader'));
             const held = k ? localStorage.getItem(k) : null;
             return [held ? Number(held.split('|')[1]) : null, Date.now()];",
            vec![],
        )
        .await?;
    Ok((v[0].as_u64(), v[1].as_u64().unwrap_or_default()))
}

/// A poll the API is slow to answer holds the tab's poll lease for as long as it is out: the
/// lease lapsed (2.5 polls) while it was, and another tab in view would poll alongside, into an
/// API already struggling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_poll_keeps_its_lease() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let (before, _) = poll_lease_ends(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "latency_ms": 28_000, "count": 1 }),
        )
        .await?;
        // The next poll's claim, as it asks (slowly answered).
        let claimed = poll_until("the slow poll's claim", POLL * 2, || async {
            Ok(poll_lease_ends(h).await?.0.filter(|u| Some(*u) != before))
        })
        .await?;
        poll_until("past the claim's end", Duration::from_secs(30), || async {
            Ok((poll_lease_ends(h).await?.1 > claimed + 1_000).then_some(()))
        })
        .await?;
        let (until, now) = poll_lease_ends(h).await?;
        ensure!(
            until.is_some_and(|u| u > now),
            "the lease held while the poll is out: ends {until:?}, now {now}"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A poll refused by the rate limit comes back no sooner than the usual poll: a short
/// `Retry-After` had it poll again a second later, faster than it does unrefused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_poll_does_not_poll_faster() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        // (The poll is not retried: it is asked again at the next poll.) Before the log is
        // cleared: a poll between the two would be logged, unrefused, first.
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "force_429_retry_after": 1, "count": 1 }),
        )
        .await?;
        clear_requests(h).await?;
        let polls = poll_until("the refused poll, and the next", POLL * 2, || async {
            let polls: Vec<_> = h
                .sim_requests()
                .await?
                .into_iter()
                .filter(is_first_page_list)
                .collect();
            Ok((polls.len() >= 2).then_some(polls))
        })
        .await?;
        assert_eq!(polls[0].status, 429, "{polls:#?}");
        let waited = polls[1].at_ms()? - polls[0].at_ms()?;
        assert!(
            waited >= 9_000,
            "polled again {waited} ms after the refusal: {polls:#?}"
        );
        Ok(())
    })
    .await;
}

/// A poll refused by the rate limit for longer than a poll says the list may be out of date
/// (it said nothing, and the list stood still for as long as the wait), and the next poll after
/// the wait, which works, takes the warning back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_rate_limited_for_long_says_the_list_is_behind() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "force_429_retry_after": 25, "count": 1 }),
        )
        .await?;
        h.wait_for("#list-stale", POLL * 2).await?;
        wait_text(h, "#live-announcer", "may be out of date", SCREEN).await?;
        wait_gone(h, "#list-stale", Duration::from_secs(40)).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A list whose refreshes fail says it may be out of date, and stops saying so once one
/// works: polls are quiet, and a list that stopped moving looked like a quiet hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_whose_refreshes_fail_says_so() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "status": 503 }),
        )
        .await?;
        h.wait_for("#list-stale", POLL).await?;
        let shown = row_ids(h).await?;
        ensure!(!shown.is_empty(), "rows listed before the polls failed");
        wait_text(h, "#live-announcer", "may be out of date", SCREEN).await?;
        h.assert_no_axe_violations("the inbox, out of date").await?;
        // Said once, not again at each poll that fails.
        record_said(h).await?;
        settle("two more polls failing", Duration::from_secs(21)).await;
        let again = said_since(h, "out of date").await?;
        assert!(again.is_empty(), "the warning was said again: {again:?}");
        assert_eq!(
            count(h, "#error-banner").await?,
            0,
            "no error in their place"
        );
        assert_eq!(row_ids(h).await?, shown, "the rows shown stay");
        clear_faults(h).await?;
        wait_gone(h, "#list-stale", POLL).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// The open conversation is read while the page is in view: what its customer writes while
/// the tab is hidden (the operator in another tab) counts in the title, and marks its row,
/// until the tab is shown again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_conversation_counts_as_unread_while_the_tab_is_hidden() {
    with_harness(Options::default(), async |h: &Harness| {
        let id = open_live(h, "human", "sms").await?;
        h.wait_for(&format!("{ROW}[data-conversation-id='{id}']"), SCREEN)
            .await?;
        let flip = |hidden: bool| {
            format!(
                "Object.defineProperty(document, 'hidden', {{ configurable: true, get: () => {hidden} }});
                 document.dispatchEvent(new Event('visibilitychange', {{ bubbles: true }}));"
            )
        };
        h.browser().execute(&flip(true), vec![]).await?;
        let text = "Are you still there?";
        inject(h, &id, text).await?;
        wait_message(h, text, "brought by the stream", |m| m.id.is_some()).await?;
        poll_until("the title's count", SCREEN, || async {
            Ok((title(h).await? == "(1) Voicebip console").then_some(()))
        })
        .await?;
        let marker = format!("{ROW}[data-conversation-id='{id}'] .unread-marker");
        assert_eq!(count(h, &marker).await?, 1, "its row marked");
        h.browser().execute(&flip(false), vec![]).await?;
        poll_until("the count gone, the tab shown", SCREEN, || async {
            Ok((title(h).await? == "Voicebip console").then_some(()))
        })
        .await?;
        assert_eq!(count(h, &marker).await?, 0);
        assert_no_crash(h).await
    })
    .await;
}

/// The unread count leaves the title with the inbox: signed out, the connect screen's title
/// counted conversations no longer shown. Each screen names itself there: the connect screen
/// and an address with nothing at it, not only the inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_takes_the_unread_count_out_of_the_title() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        h.wait_for_all(ROW, 6, SCREEN).await?;
        let ids = row_ids(h).await?;
        let moved = ids.get(5).cloned().ok_or_else(|| anyhow!("need 6 rows"))?;
        inject(h, &moved, "Still waiting on my refund").await?;
        wait_first_and_unread(h, &moved, POLL).await?;
        assert_eq!(title(h).await?, "(1) Voicebip console");
        h.click("#sign-out").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        poll_until("the connect screen's title", SCREEN, || async {
            Ok((title(h).await? == "Connect – Voicebip console").then_some(()))
        })
        .await?;
        h.open("/nothing-here").await?;
        h.wait_for("#not-found", FIRST_SCREEN).await?;
        assert_eq!(title(h).await?, "Page not found – Voicebip console");
        assert_no_crash(h).await
    })
    .await;
}
