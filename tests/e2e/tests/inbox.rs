//! The operator's first minute: open the console, connect with a key, see the inbox.

use std::time::Duration;

use voicebip_e2e::{with_harness, Harness, Options, DEMO_KEY};

/// The first screen includes fetching and compiling the wasm in a cold browser on 2 cores.
const FIRST_SCREEN: Duration = Duration::from_secs(30);
const SCREEN: Duration = Duration::from_secs(15);
const ROW: &str = "ul#conversation-list li.conversation-row";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_with_demo_key_lists_first_page_of_conversations() {
    with_harness(Options::default(), async |h: &Harness| {
        // Without a stored key the root sends the operator to the connect screen.
        h.open("/").await?;
        h.wait_for("form#connect-form", FIRST_SCREEN).await?;
        h.wait_for_path("/connect", SCREEN).await?;
        let key_type = h
            .wait_for("input#api-key", SCREEN)
            .await?
            .attr("type")
            .await?;
        assert_eq!(
            key_type.as_deref(),
            Some("password"),
            "the key input must mask the key"
        );
        h.wait_for("input#remember[type=checkbox]", SCREEN).await?;
        h.wait_for("button#connect-submit", SCREEN).await?;
        h.assert_no_axe_violations("the connect screen").await?;

        h.connect(DEMO_KEY).await?;
        h.wait_for_path("/conversations", SCREEN).await?;
        h.wait_for("select#filter-agent", SCREEN).await?;
        h.wait_for("select#filter-channel", SCREEN).await?;
        h.wait_for("button#sign-out", SCREEN).await?;
        h.wait_for_all(ROW, 1, SCREEN).await?;

        // What the operator should see first: the API's first page (default size 20), newest
        // first. The console may fetch bigger pages and virtualises the list, so the rows are
        // collected by scrolling rather than counted in the DOM.
        let api_page = h.api_get("/conversations", DEMO_KEY).await?;
        let first_page = api_page["conversations"]
            .as_array()
            .expect("the API's list has a `conversations` array");
        let expected_ids: Vec<&str> = first_page
            .iter()
            .map(|c| c["conversation_id"].as_str().expect("each item has an id"))
            .collect();
        assert_eq!(expected_ids.len(), 20, "the seed fills the first page");
        assert!(
            api_page.get("next_page_token").is_some(),
            "the seed has more than one page, so `Load more` has something to load"
        );

        let rows = h
            .collect_rows(
                ROW,
                "data-conversation-id",
                &[".remote-number", ".channel-badge"],
                20,
                SCREEN,
            )
            .await?;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids, expected_ids,
            "the first 20 rows are the API's first page, in order"
        );
        for (row, item) in rows.iter().zip(first_page) {
            let number = row.fields[0].as_deref().unwrap_or_default();
            // The customer's (the simulator's `from_number`), not the agent's: both are
            // seeded Nigerian numbers.
            assert_eq!(
                Some(number),
                item["from_number"].as_str(),
                "row {} shows the customer's number",
                row.id
            );
            assert_ne!(Some(number), item["to_number"].as_str());
            let badge = row.fields[1].as_deref().unwrap_or_default();
            let channel = item["channel"].as_str().expect("each item has a channel");
            assert!(
                badge.to_lowercase().contains(channel),
                "row {} shows its channel {channel}, got {badge:?}",
                row.id
            );
        }
        h.wait_for("button#load-more", SCREEN).await?;

        // The key travels in the Authorization header on the REST calls, never in a URL.
        let list_calls: Vec<_> = h
            .sim_requests()
            .await?
            .into_iter()
            .filter(|r| r.path == "/v1/conversations")
            .collect();
        assert!(
            !list_calls.is_empty(),
            "the console fetched the list from the API"
        );
        for call in list_calls {
            assert!(call.has_authorization, "Bearer header on {call:?}");
            assert!(!call.query_has_token, "no ?token= on {call:?}");
        }

        let crashes: Vec<_> = h
            .browser_errors()
            .await?
            .into_iter()
            .filter(|e| e.message.contains("panicked") || e.message.contains("Uncaught"))
            .collect();
        assert!(crashes.is_empty(), "the console crashed: {crashes:#?}");

        h.assert_no_axe_violations("the inbox").await?;
        Ok(())
    })
    .await;
}
