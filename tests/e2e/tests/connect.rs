//! Connecting, staying connected, leaving: where the key is kept, what happens when the API
//! refuses it mid-session, and that it never travels in a URL other than the stream's.

use crate::common::*;
use serde_json::json;
use voicebip_e2e::anyhow::anyhow;
use voicebip_e2e::{poll_until, with_harness, Harness, Options, DEMO_KEY};

const WRONG_KEY: &str = "pk_test_not_the_right_one";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_is_checked_kept_per_tab_forgotten_on_sign_out_and_on_401() {
    with_harness(Options::default(), async |h: &Harness| {
        // A wrong key: the console says so and stays on the connect screen, keeping nothing.
        h.open("/").await?;
        h.connect(WRONG_KEY).await?;
        let error = poll_until("#connect-error to explain", SCREEN, || async {
            Ok(h.texts("#connect-error")
                .await?
                .into_iter()
                .find(|t| !t.is_empty()))
        })
        .await?;
        assert!(
            error.to_lowercase().contains("key"),
            "the error names the key as the problem: {error:?}"
        );
        assert_eq!(
            h.focused_id().await?,
            "connect-submit",
            "the Connect button keeps the focus through the check"
        );
        assert_eq!(
            h.path().await?,
            "/connect",
            "a refused key keeps the operator on /connect"
        );
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.key").await?,
            None
        );
        assert_eq!(storage_item(h, "localStorage", "voicebip.key").await?, None);

        // The right key with an invisible character pasted after it, which no request header
        // can carry: said at once, and the form is not stuck in its check.
        h.connect(&format!("{DEMO_KEY}\u{200b}")).await?;
        wait_text(h, "#connect-error", "invisible", SCREEN).await?;
        assert_eq!(h.path().await?, "/connect");

        // The right key: the inbox, and the key kept for this tab only; so too when Remember,
        // ticked as Connect was pressed, is unticked while the key is checked.
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "latency_ms": 1500, "count": 1 }),
        )
        .await?;
        h.click("input#remember").await?;
        h.connect(DEMO_KEY).await?;
        wait_text(h, "#connect-submit", "Checking", SCREEN).await?;
        // (Said too: the focused button's new words may go unread.)
        wait_text(h, "#live-announcer", "Checking the key", SCREEN).await?;
        h.click("input#remember").await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.key")
                .await?
                .as_deref(),
            Some(DEMO_KEY),
            "without `remember` the key lives in sessionStorage"
        );
        assert_eq!(
            storage_item(h, "localStorage", "voicebip.key").await?,
            None,
            "without `remember` nothing is written to localStorage"
        );
        let url = h.browser().current_url().await?;
        assert!(
            !url.as_str().contains(DEMO_KEY),
            "the key is not in the address bar: {url}"
        );

        // A reload keeps the session.
        h.browser().refresh().await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        assert_eq!(
            h.path().await?,
            "/conversations",
            "still signed in after a reload"
        );
        assert_eq!(count(h, "form#connect-form").await?, 0);

        // Sign out: back to /connect, the key forgotten, and a reload does not bring it back.
        h.click("#sign-out").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        h.wait_for("form#connect-form", SCREEN).await?;
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.key").await?,
            None
        );
        h.browser().refresh().await?;
        h.wait_for("form#connect-form", FIRST_SCREEN).await?;
        assert_eq!(
            h.path().await?,
            "/connect",
            "signed out stays signed out after a reload"
        );
        // The inbox's address itself leads back to the connect screen.
        h.open("/conversations").await?;
        h.wait_for_path("/connect", FIRST_SCREEN).await?;

        // `Remember on this device`: the key goes to localStorage instead, and sign-out clears it.
        h.wait_for("input#remember", SCREEN).await?;
        h.click("input#remember").await?;
        h.connect(DEMO_KEY).await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_eq!(
            storage_item(h, "localStorage", "voicebip.key")
                .await?
                .as_deref(),
            Some(DEMO_KEY),
            "with `remember` the key lives in localStorage"
        );
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.key")
                .await?
                .as_deref(),
            Some(DEMO_KEY),
            "and the tab's own, which its reload restores"
        );
        // A draft is kept there too, with the key; signing out forgets it with the key.
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        open_thread(h, &id).await?;
        h.fill("#composer-text", "Half a reply to the customer")
            .await?;
        let draft_item = draft_item(h, DEMO_KEY, &id);
        poll_until("the draft kept on this device", SCREEN, || async {
            Ok(storage_item(h, "localStorage", &draft_item)
                .await?
                .map(drop))
        })
        .await?;
        h.click("#sign-out").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        assert_eq!(storage_item(h, "localStorage", "voicebip.key").await?, None);
        let drafts_left = h
            .browser()
            .execute(
                "return [localStorage, sessionStorage].flatMap(s => Object.keys(s))
                   .filter(k => k.startsWith('voicebip.draft.'));",
                vec![],
            )
            .await?;
        assert_eq!(drafts_left, json!([]), "signing out forgets the drafts");

        // A 401 in the middle of the session (the key revoked while the operator works):
        // opening a conversation is refused, and the console returns to /connect and says why.
        // The operator was writing a reply then: the draft is kept for when they are back.
        h.connect(DEMO_KEY).await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        open_thread(h, &id).await?;
        let draft = "Before the key was revoked";
        h.fill("#composer-text", draft).await?;
        poll_until("the draft kept for the tab", SCREEN, || async {
            Ok(storage_item(h, "sessionStorage", &draft_item)
                .await?
                .map(drop))
        })
        .await?;
        // The log so far is kept for the check of how the key travelled, at the end; the
        // 401 looked for is one answered from here on (the wrong key's came before).
        let mut log = h.sim_requests().await?;
        clear_requests(h).await?;
        let other = h
            .attrs(
                &format!("{ROW}:not([data-conversation-id='{id}'])"),
                "data-conversation-id",
            )
            .await?
            .into_iter()
            .flatten()
            .next()
            .ok_or_else(|| anyhow!("another conversation's row to open"))?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations/{id}", "status": 401 }),
        )
        .await?;
        h.click(&format!("{ROW}[data-conversation-id='{other}'] a"))
            .await?;
        h.wait_for_path("/connect", SCREEN).await?;
        let opened = format!("/v1/conversations/{other}");
        let refused = requests(h, "GET", |p| p == opened).await?;
        assert!(
            refused.iter().any(|r| r.status == 401),
            "opening {other} was answered 401: {refused:?}"
        );
        let notice = poll_until("#connect-error to say why", SCREEN, || async {
            Ok(h.texts("#connect-error")
                .await?
                .into_iter()
                .find(|t| !t.is_empty()))
        })
        .await?;
        assert!(
            notice.to_lowercase().contains("key"),
            "after a 401 the connect screen explains the key was refused: {notice:?}"
        );
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.key").await?,
            None
        );
        clear_faults(h).await?;
        // Back with the key, remembered on this device this time (at the conversation it was
        // refused at): the draft came along.
        h.wait_for("input#remember", SCREEN).await?;
        h.click("input#remember").await?;
        h.connect(DEMO_KEY).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_eq!(h.path().await?, format!("/conversations/{other}"));
        open_thread(h, &id).await?;
        poll_until("the draft back in the reply box", SCREEN, || async {
            let value = h
                .wait_for("#composer-text", SCREEN)
                .await?
                .prop("value")
                .await?;
            Ok((value.as_deref() == Some(draft)).then_some(()))
        })
        .await?;
        assert_eq!(
            storage_item(h, "localStorage", &draft_item)
                .await?
                .as_deref(),
            Some(draft),
            "the draft moved with the key"
        );
        assert_eq!(storage_item(h, "sessionStorage", &draft_item).await?, None);

        // How the key travelled, over the whole session.
        log.extend(h.sim_requests().await?);
        assert!(!log.is_empty());
        for r in &log {
            let is_stream = r.method == "GET"
                && r.path.starts_with("/v1/conversations/")
                && r.path.ends_with("/stream");
            if r.query_has_token {
                assert!(is_stream, "only the stream may carry ?token=: {r:?}");
            } else {
                assert!(
                    r.has_authorization,
                    "REST calls carry the Bearer header: {r:?}"
                );
            }
            // (The simulator logs no key: it writes REDACTED where a path or a query
            // parameter held one.)
            assert_ne!(r.path, "/v1/REDACTED", "a key in a path: {r:?}");
            let query = r.query.as_deref().unwrap_or_default();
            assert!(
                query
                    .split('&')
                    .all(|p| p == "token=REDACTED" || !p.contains("REDACTED")),
                "a key in a query (outside the stream's `token`): {r:?}"
            );
        }
        assert!(
            log.iter().any(|r| r.status == 401 && !r.query_has_token),
            "the wrong key and the injected 401 were answered with 401"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// The list's poll failing (one tab polls for all) is said in every tab showing that list, and
/// the next page polled takes the word back in each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_poll_is_said_in_every_tab() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in_remembered(h, DEMO_KEY).await?;
        two_consoles(h, "/conversations", "/conversations").await?;
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "status": 503 }),
        )
        .await?;
        let polls = std::time::Duration::from_secs(40);
        for frame in ["#a", "#b"] {
            in_frame(h, frame, async || {
                h.wait_for("#list-stale", polls).await.map(drop)
            })
            .await?;
        }
        clear_faults(h).await?;
        for frame in ["#a", "#b"] {
            in_frame(h, frame, async || wait_gone(h, "#list-stale", polls).await).await?;
        }
        assert_no_crash(h).await
    })
    .await;
}

/// Signing out signs out the workspace's other tabs on the device: their key was the one just
/// forgotten. Another tab kept on, with its key in memory, polling and saving drafts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_signs_out_the_other_tabs() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in_remembered(h, DEMO_KEY).await?;
        two_consoles(h, "/conversations", "/conversations").await?;
        in_frame(h, "#a", async || {
            h.click("#sign-out").await?;
            h.wait_for("input#remember", SCREEN).await.map(drop)
        })
        .await?;
        in_frame(h, "#b", async || {
            h.wait_for("input#remember", SCREEN).await?;
            let notice = wait_text(h, "#connect-error", "another tab", SCREEN).await?;
            assert_eq!(count(h, ROW).await?, 0, "no rows left in tab b: {notice}");
            Ok(())
        })
        .await?;
        assert_eq!(storage_item(h, "localStorage", "voicebip.key").await?, None);
        assert_no_crash(h).await
    })
    .await;
}

/// A tab signed in on another key is not signed out, and the key it keeps on this device is not
/// forgotten, when a tab of another workspace signs out (or has its key refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_leaves_another_keys_tab_alone() {
    const SECOND_KEY: &str = "pk_test_second_workspace_key";
    let mut options = Options::default();
    options.sim.api_keys.push(SECOND_KEY.into());
    with_harness(options, async |h: &Harness| {
        sign_in_remembered(h, SECOND_KEY).await?;
        // The second frame signed in for its tab only, on the demo key (frames share the tab's
        // sessionStorage: set it as such a tab would have, once the first frame is in).
        h.open("/config.json").await?;
        h.browser()
            .execute(
                "document.body.innerHTML = \
                 '<iframe id=\"a\" src=\"/conversations\" width=\"600\" height=\"700\"></iframe>';",
                vec![],
            )
            .await?;
        in_frame(h, "#a", async || {
            h.wait_for_all(ROW, 1, SCREEN).await.map(drop)
        })
        .await?;
        h.browser()
            .execute(
                "sessionStorage.setItem('voicebip.key', arguments[0]);
                 sessionStorage.setItem('voicebip.base', localStorage.getItem('voicebip.base'));
                 sessionStorage.removeItem('voicebip.remembered');
                 sessionStorage.removeItem('voicebip.drafts.shelf');
                 const b = document.createElement('iframe');
                 b.id = 'b'; b.src = '/conversations'; b.width = 600; b.height = 700;
                 document.body.append(b);",
                vec![json!(DEMO_KEY)],
            )
            .await?;
        // A draft the first frame keeps on this device, with its key.
        let (kept, not_kept) = (
            draft_item(h, SECOND_KEY, "conv_kept"),
            draft_item(h, DEMO_KEY, "conv_kept"),
        );
        h.browser()
            .execute(
                "localStorage.setItem(arguments[0], 'Half a reply');",
                vec![json!(kept)],
            )
            .await?;
        in_frame(h, "#b", async || {
            h.wait_for_all(ROW, 1, SCREEN).await?;
            h.click("#sign-out").await?;
            h.wait_for("input#remember", SCREEN).await.map(drop)
        })
        .await?;
        assert_eq!(
            storage_item(h, "localStorage", "voicebip.key")
                .await?
                .as_deref(),
            Some(SECOND_KEY),
            "the other workspace's key stays remembered"
        );
        assert_eq!(
            storage_item(h, "localStorage", &kept).await?.as_deref(),
            Some("Half a reply"),
            "and so do the drafts kept with it"
        );
        settle(
            "a sign-out reaching the other tab",
            std::time::Duration::from_secs(1),
        )
        .await;
        in_frame(h, "#a", async || {
            assert!(
                !h.texts(ROW).await?.is_empty(),
                "the other tab is still signed in"
            );
            Ok(())
        })
        .await?;
        // Signing in again for its tab only, the tab takes its own drafts along, not the
        // device's, which are the other tab's.
        in_frame(h, "#b", async || {
            h.connect(DEMO_KEY).await?;
            h.wait_for_all(ROW, 1, SCREEN).await.map(drop)
        })
        .await?;
        assert_eq!(
            storage_item(h, "localStorage", &kept).await?.as_deref(),
            Some("Half a reply"),
            "the other tab's draft stays where that tab keeps it"
        );
        for item in [&kept, &not_kept] {
            assert_eq!(storage_item(h, "sessionStorage", item).await?, None);
        }
        assert_no_crash(h).await
    })
    .await;
}

/// A tab signed in for itself only, closed, and brought back with its storage after the
/// operator signed out (Ctrl+Shift+T, or a tab the browser had discarded): it does not come
/// back signed in with the key signed out of, on a shared machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_brought_back_after_a_sign_out_stays_signed_out() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let kept = |item: &'static str| async move {
            storage_item(h, "sessionStorage", item)
                .await?
                .ok_or_else(|| anyhow!("{item} kept for the tab"))
        };
        let (key, base, marked) = (
            kept("voicebip.key").await?,
            kept("voicebip.base").await?,
            kept("voicebip.marked").await?,
        );
        let id = newest_conversation_id(h).await?;
        h.click("#sign-out").await?;
        h.wait_for("#connect-form", SCREEN).await?;
        // The closed tab's storage, as the browser brings it back (with its mark that the
        // device was marked as signed in, and a draft), at the conversation it showed.
        let draft = draft_item(h, DEMO_KEY, &id);
        h.browser()
            .execute(
                "sessionStorage.setItem('voicebip.key', arguments[0]);
                 sessionStorage.setItem('voicebip.base', arguments[1]);
                 sessionStorage.setItem('voicebip.marked', arguments[2]);
                 sessionStorage.setItem(arguments[3], 'Half a reply');",
                vec![json!(key), json!(base), json!(marked), json!(draft)],
            )
            .await?;
        h.open(&format!("/conversations/{id}")).await?;
        h.wait_for("#connect-form", FIRST_SCREEN).await?;
        settle(
            "a restore, were there one",
            std::time::Duration::from_secs(1),
        )
        .await;
        assert_eq!(h.path().await?, "/connect", "not signed in again");
        // Signed out, as in the tab that did: the next to sign in (perhaps someone else) is
        // not sent to the conversation, and the draft went with the key.
        assert_eq!(url_query(h).await?, "", "nowhere to go back to");
        assert_eq!(storage_item(h, "sessionStorage", &draft).await?, None);
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.key").await?,
            None,
            "the tab's copy forgotten"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A page brought back from the browser's memory (Back, after the tab went elsewhere) missed
/// the sign-out another tab made meanwhile: it signs out as it comes back, rather than go on
/// with the key signed out of, and the draft it puts back goes with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_back_from_memory_after_a_sign_out_elsewhere_signs_out() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        open_thread(h, &id).await?;
        h.fill("#composer-text", "Half a reply").await?;
        let draft = draft_item(h, DEMO_KEY, &id);
        poll_until("the draft kept", SCREEN, || async {
            Ok(storage_item(h, "sessionStorage", &draft).await?.map(drop))
        })
        .await?;
        // The page goes into the browser's memory; another tab signs out meanwhile (its
        // message lost to a page held so: the device's mark goes, the drafts with it); the
        // page comes back.
        h.browser()
            .execute(
                "window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
                 for (const k of Object.keys(localStorage))
                   if (k.startsWith('voicebip.remembered.')) localStorage.removeItem(k);
                 sessionStorage.removeItem(arguments[0]);
                 window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));",
                vec![json!(draft)],
            )
            .await?;
        h.wait_for_path("/connect", SCREEN).await?;
        wait_text(h, "#connect-error", "another tab", SCREEN).await?;
        settle("the drafts put back", std::time::Duration::from_millis(500)).await;
        assert_eq!(storage_item(h, "sessionStorage", &draft).await?, None);
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.key").await?,
            None
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A tab keeps its own key across a reload: another tab that remembered another key on this
/// device since does not switch it over to that key's workspace. But a remembered key the
/// device has forgotten since (a sign-out elsewhere) is not brought back by the tab's copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_keeps_the_tabs_own_key() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in_remembered(h, DEMO_KEY).await?;
        // (A key the simulator refuses: a tab that took it would be back on the connect screen.)
        h.browser()
            .execute(
                "localStorage.setItem('voicebip.key', 'pk_test_another_tabs_key');",
                vec![],
            )
            .await?;
        h.browser().refresh().await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        settle(
            "a refusal to end the session",
            std::time::Duration::from_secs(1),
        )
        .await;
        assert_eq!(count(h, "#connect-form").await?, 0, "still signed in");
        assert!(!h.texts(ROW).await?.is_empty());
        // The key signed out since in a tab while this one was asleep and missed it (which
        // forgets it on the device), and another key remembered there after that: the tab's
        // reload does not sign it back in with its own copy.
        h.browser()
            .execute(
                "Object.keys(localStorage)
                   .filter(k => k.startsWith('voicebip.remembered.'))
                   .forEach(k => localStorage.removeItem(k));",
                vec![],
            )
            .await?;
        h.browser().refresh().await?;
        h.wait_for("#connect-form", FIRST_SCREEN).await?;
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.key").await?,
            None
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A tab's key refused before `config.json` came ends its session, and the configuration
/// coming after that does not sign the tab in with the key another tab remembered on the device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_refused_before_the_configuration_stays_signed_out() {
    with_harness(Options::default(), async |h: &Harness| {
        // Another tab remembered a key the simulator takes; this tab holds one for itself only,
        // which the simulator refuses.
        sign_in_remembered(h, DEMO_KEY).await?;
        h.browser()
            .execute(
                "sessionStorage.setItem('voicebip.key', 'pk_test_refused_here');
                 sessionStorage.removeItem('voicebip.remembered');",
                vec![],
            )
            .await?;
        settings(h, json!({ "config_stalled": true })).await?;
        h.browser().refresh().await?;
        h.wait_for("#connect-form", FIRST_SCREEN).await?;
        // The configuration given up on, and read as its defaults.
        wait_text(h, ".banner.warn", "config.json", SCREEN).await?;
        settings(h, json!({ "config_stalled": false })).await?;
        settle(
            "a restore after the configuration",
            std::time::Duration::from_secs(1),
        )
        .await;
        assert_eq!(count(h, "#connect-form").await?, 1, "still signed out");
        assert_eq!(count(h, ROW).await?, 0);
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.key").await?,
            None,
            "not the other tab's key"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A key check that hangs is given up as the operator corrects a field, and the next Connect
/// is theirs (it was ignored while "Checking…" stayed); one left alone says the API did not
/// answer once its one request's limit is out, where three more tries kept "Checking…" for two
/// minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_key_check_gives_way() {
    with_harness(Options::default(), async |h: &Harness| {
        let hang = |count: u32| json!({ "route": "GET /v1/conversations", "latency_ms": 40_000, "count": count });
        fault(h, hang(1)).await?;
        h.open("/").await?;
        h.connect(DEMO_KEY).await?;
        wait_text(h, "#connect-submit", "Checking", SCREEN).await?;
        // Corrected (the same key typed again): Connect is the operator's again, and counts.
        h.fill("#api-key", DEMO_KEY).await?;
        wait_text(h, "#connect-submit", "Connect", SCREEN).await?;
        h.click("#connect-submit").await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;

        h.click("#sign-out").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        fault(h, hang(4)).await?;
        h.connect(DEMO_KEY).await?;
        wait_text(
            h,
            "#connect-error",
            "did not answer in time",
            std::time::Duration::from_secs(38),
        )
        .await?;
        assert_eq!(h.path().await?, "/connect");
        assert_no_crash(h).await
    })
    .await;
}

/// A `config.json` that never answers (a stalled CDN) is given up on: the connect screen comes
/// with the defaults and says why, where it said "Loading…" for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_config_is_given_up_on() {
    with_harness(Options::default(), async |h: &Harness| {
        settings(h, json!({ "config_stalled": true })).await?;
        h.open("/").await?;
        h.wait_for("form#connect-form", std::time::Duration::from_secs(20))
            .await?;
        wait_text(h, ".banner.warn", "config.json", SCREEN).await?;
        wait_text(h, "#live-announcer", "config.json", SCREEN).await?;
        settings(h, json!({ "config_stalled": false })).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// A console served with its API behind the same site (a reverse proxy) signs in with a path
/// as its base, as the README allows; one that begins with `//` names another host, and the
/// key is not sent there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_on_the_consoles_own_site_is_a_base() {
    with_harness(Options::default(), async |h: &Harness| {
        h.open("/").await?;
        // Without a key: the form waits for config.json's base, then asks for the key.
        h.connect("").await?;
        wait_text(h, "#connect-error", "Enter your API key", SCREEN).await?;
        // The field at fault is marked, described by the refusal, and has the keyboard.
        h.wait_focus_on("#api-key", SCREEN).await?;
        let marked = |css: &'static str| async move {
            Ok::<_, voicebip_e2e::anyhow::Error>((
                h.attrs(css, "aria-invalid").await?.remove(0),
                h.attrs(css, "aria-describedby").await?.remove(0),
            ))
        };
        let refused = (Some("true".to_owned()), Some("connect-error".to_owned()));
        assert_eq!(marked("#api-key").await?, refused);
        assert_eq!(marked("#api-base-url").await?, (None, None));
        // The same refusal again is said again: the alert changes.
        h.browser()
            .execute(
                "window.__alerts = 0;
                 new MutationObserver(() => window.__alerts++).observe(
                   document.getElementById('connect-error'),
                   { childList: true, subtree: true, characterData: true });",
                vec![],
            )
            .await?;
        h.connect("").await?;
        poll_until("the same refusal said again", SCREEN, || async {
            let n = h
                .browser()
                .execute("return window.__alerts;", vec![])
                .await?;
            Ok((n.as_u64() > Some(0)).then_some(()))
        })
        .await?;

        h.fill("#api-base-url", "//elsewhere.example/v1").await?;
        h.connect(DEMO_KEY).await?;
        wait_text(h, "#connect-error", "path on this site", SCREEN).await?;
        assert_eq!(h.path().await?, "/connect");
        h.wait_focus_on("#api-base-url", SCREEN).await?;
        assert_eq!(marked("#api-base-url").await?, refused);
        assert_eq!(marked("#api-key").await?, (None, None));
        // Without TLS, the key would cross the network readable: only to this machine.
        h.fill("#api-base-url", "http://api.elsewhere.example/v1")
            .await?;
        h.connect(DEMO_KEY).await?;
        wait_text(h, "#connect-error", "only on this machine", SCREEN).await?;
        assert_eq!(h.path().await?, "/connect");

        // Somewhere that answers, but not as the API: the base is said to be wrong.
        h.fill("#api-base-url", "/v2").await?;
        h.connect(DEMO_KEY).await?;
        wait_text(h, "#connect-error", "usually ends in /v1", SCREEN).await?;
        h.wait_focus_on("#api-base-url", SCREEN).await?;
        assert_eq!(marked("#api-base-url").await?, refused);

        h.fill("#api-base-url", "/v1").await?;
        h.connect(DEMO_KEY).await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.base")
                .await?
                .as_deref(),
            Some("/v1")
        );
        // The reload's session is made from the stored base.
        h.browser().refresh().await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        assert_no_crash(h).await
    })
    .await;
}

/// Back from where the console redirected leaves it: `/` sends a signed-in operator to the
/// inbox, and an inbox address a signed-out one to the connect screen, each in the place of the
/// address redirected from (a redirect that was a step of its own sent Back to that address,
/// which redirected forward again: Back could never leave the console).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_from_a_redirect_leaves_the_console() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        // A page of the console's origin that runs no console: where Back should return to.
        let before = "/config.json";
        let back_to_before = async || {
            h.browser().back().await?;
            poll_until("Back at the page before the console", SCREEN, || async {
                let url = h.browser().current_url().await?;
                Ok((url.path() == before).then_some(()))
            })
            .await
        };
        h.open(before).await?;
        h.open("/").await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;
        back_to_before().await?;

        h.browser()
            .execute("sessionStorage.clear(); localStorage.clear();", vec![])
            .await?;
        h.open("/conversations").await?;
        h.wait_for_path("/connect", FIRST_SCREEN).await?;
        back_to_before().await?;
        Ok(())
    })
    .await;
}

/// A conversation's link opened signed out (a colleague's, in a tab of its own), and a session
/// a refused key ended mid-work: once signed in, the operator is back at that conversation, with
/// the list's filters, where the inbox's start was all the sign-in knew. After their own Sign
/// out, the next sign-in (perhaps someone else's) starts at the inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_goes_back_to_where_the_operator_was_sent_from() {
    with_harness(Options::default(), async |h: &Harness| {
        let conv = reachable(h, "human", "sms").await?;
        let id = str_field(&conv, "conversation_id")?;
        let there = format!("/conversations/{id}");
        let back_there = async || {
            h.wait_for_path("/connect", FIRST_SCREEN).await?;
            h.connect(DEMO_KEY).await?;
            wait_thread(h, &id).await?;
            assert_eq!(h.path().await?, there);
            assert_eq!(
                url_query(h).await?,
                "channel=sms",
                "with the list's filters"
            );
            Ok::<_, voicebip_e2e::anyhow::Error>(())
        };
        h.open(&format!("{there}?channel=sms")).await?;
        back_there().await?;

        fault(
            h,
            json!({ "route": "PATCH /v1/conversations/{id}", "status": 401, "count": 1 }),
        )
        .await?;
        h.click("#return-to-ai").await?;
        back_there().await?;

        h.click("#sign-out").await?;
        h.wait_for_path("/connect", SCREEN).await?;
        assert_eq!(url_query(h).await?, "", "nowhere to go back to");
        h.connect(DEMO_KEY).await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        assert_eq!(h.path().await?, "/conversations");
        assert_no_crash(h).await
    })
    .await;
}

/// A stored API base that is no base (kept by an older build, or tampered with: a host without
/// its scheme resolves under the console's own address) is not used on a reload: the key would
/// go to the console's own host. The configured base is used instead, and kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_base_that_is_no_base_is_not_used() {
    with_harness(Options::default(), async |h: &Harness| {
        sign_in(h).await?;
        let base = storage_item(h, "sessionStorage", "voicebip.base")
            .await?
            .ok_or_else(|| anyhow!("a base kept for the tab"))?;
        h.browser()
            .execute(
                "sessionStorage.setItem('voicebip.base', 'api.voicebip.example/v1');",
                vec![],
            )
            .await?;
        clear_requests(h).await?;
        h.browser().refresh().await?;
        h.wait_for_all(ROW, 1, FIRST_SCREEN).await?;
        assert_eq!(
            storage_item(h, "sessionStorage", "voicebip.base").await?,
            Some(base),
            "the configured base kept in its place"
        );
        // (Not in the simulator's log, which holds `/v1` paths only: a request to the stored
        // base, resolved under the console's own address, is seen in what the page fetched,
        // its resource timing, which does hold the API's requests to the configured base.)
        let fetched = loaded_urls(h).await?;
        assert!(
            fetched.iter().any(|u| u.contains("/v1/conversations")),
            "the page's fetches are seen: {fetched:#?}"
        );
        let astray: Vec<_> = fetched
            .iter()
            .filter(|u| u.contains("api.voicebip.example"))
            .collect();
        assert!(
            astray.is_empty(),
            "fetched from the stored base: {astray:#?}"
        );
        assert_no_crash(h).await
    })
    .await;
}

/// A key check asked to wait longer than the check waits (its 30 s): the operator is told what
/// is left of the wait, not all of it again ("wait 45 s" after 30 s of "Checking…").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_outlasting_the_key_check_says_what_is_left_of_it() {
    with_harness(Options::default(), async |h: &Harness| {
        fault(
            h,
            json!({ "route": "GET /v1/conversations", "force_429_retry_after": 45, "count": 1 }),
        )
        .await?;
        h.open("/").await?;
        h.connect(DEMO_KEY).await?;
        let said = wait_text(
            h,
            "#connect-error",
            "then try again",
            std::time::Duration::from_secs(45),
        )
        .await?;
        let secs = seconds_in(&said)?;
        assert!(
            (10..=16).contains(&secs),
            "about 15 s left of the 45: {said:?}"
        );
        assert_no_crash(h).await
    })
    .await;
}
