//! The live traffic generator: customers writing in across agents and channels at a set rate
//! (`--traffic-per-minute`, `POST /sim/traffic`). Their messages go through the normal inbound
//! rules, so the AI answers while `ai_mode` is `ai` and receipts advance.

use crate::engine::{self, InboundTarget};
use crate::model::{AiMode, Channel};
use crate::phrases;
use crate::state::AppState;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

pub async fn run(state: AppState) {
    let mut rng = StdRng::seed_from_u64(state.seed ^ 0x7a11_c0de);
    let mut rate_rx = state.traffic.subscribe();
    loop {
        let per_minute = *rate_rx.borrow_and_update();
        if per_minute <= 0.0 || !per_minute.is_finite() {
            if rate_rx.changed().await.is_err() {
                return;
            }
            continue;
        }
        // (Bounded both ways, whatever set the rate: a wait no timer holds panicked, and none at
        // all would hold the store's lock without a pause.)
        let interval = Duration::try_from_secs_f64(60.0 / per_minute)
            .unwrap_or(Duration::MAX)
            .clamp(Duration::from_millis(1), Duration::from_secs(86_400));
        tokio::select! {
            _ = tokio::time::sleep(interval) => write_in(&state, &mut rng),
            changed = rate_rx.changed() => if changed.is_err() { return },
        }
    }
}

/// One customer message: usually in an open conversation, sometimes from a new customer.
fn write_in(state: &AppState, rng: &mut StdRng) {
    let target = if rng.gen_bool(0.6) {
        existing_conversation(state, rng)
    } else {
        None
    };
    let (target, body) = match target {
        Some(id) => {
            let lines = if rng.gen_bool(0.5) {
                phrases::CUSTOMER_FILLERS
            } else {
                phrases::CUSTOMER_OPENERS
            };
            (
                InboundTarget::Conversation(id),
                lines[rng.gen_range(0..lines.len())],
            )
        }
        None => {
            let agent_id = {
                let store = state.store();
                let agents = &store.agents;
                agents[rng.gen_range(0..agents.len())].agent_id.clone()
            };
            let prefix = ["70", "80", "81", "90", "91"][rng.gen_range(0..5)];
            let customer = format!("+234{prefix}{:08}", rng.gen_range(0..100_000_000u32));
            let channel = if rng.gen_bool(0.55) {
                Channel::Whatsapp
            } else {
                Channel::Sms
            };
            let line = phrases::CUSTOMER_OPENERS[rng.gen_range(0..phrases::CUSTOMER_OPENERS.len())];
            (
                InboundTarget::Pair {
                    agent_id,
                    channel,
                    customer,
                },
                line,
            )
        }
    };
    // A rare opt-out keeps the STOP path exercised in demos.
    let body = if rng.gen_bool(0.01) { "STOP" } else { body };
    let _ = engine::receive_inbound(state, target, body);
}

/// A random recent conversation that is open and not opted out.
fn existing_conversation(state: &AppState, rng: &mut StdRng) -> Option<String> {
    let store = state.store();
    let ids = &store.ids_in_creation_order;
    if ids.is_empty() {
        return None;
    }
    for _ in 0..10 {
        let id = &ids[rng.gen_range(0..ids.len())];
        let usable = store.conversation(id).is_some_and(|c| {
            c.ai_mode != AiMode::Closed && !store.is_opted_out(&c.agent_id, &c.customer_number)
        });
        if usable {
            return Some(id.clone());
        }
    }
    None
}
