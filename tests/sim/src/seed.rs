//! Deterministic seed data. The same seed gives the same agents, conversations, ids and texts;
//! timestamps are placed relative to the simulator's start so windows and recency are
//! meaningful whenever it runs.

use crate::clock::{Millis, DAY, HOUR, MINUTE, SECOND};
use crate::engine::new_conversation;
use crate::ids::random_alnum;
use crate::model::{
    Agent, AiMode, Channel, Conversation, Direction, Message, MessageStatus, ModeChange,
};
use crate::phrases::{self, TOPICS};
use crate::store::Store;
use crate::SeedSize;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;

pub const DEMO_CONVERSATIONS: usize = 300;
pub const LARGE_CONVERSATIONS: usize = 10_000;
pub const BIG_THREAD_MESSAGES: usize = 5_000;
/// The operator recorded in seeded audit rows.
pub const SEED_OPERATOR: &str = "usr_seed_operator";

const AGENT_NAMES: [&str; 3] = ["Ada - Customer Care", "Tunde - Sales", "Chioma - Billing"];
const AGENT_PREFIXES: [&str; 3] = ["90", "80", "90"];
const CUSTOMER_PREFIXES: [&str; 5] = ["70", "80", "81", "90", "91"];

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

fn agents(rng: &mut StdRng) -> Vec<Agent> {
    AGENT_NAMES
        .iter()
        .zip(AGENT_PREFIXES)
        .map(|(name, prefix)| Agent {
            agent_id: format!("agt_VBIP_{}", random_alnum(rng, 12)),
            name: name.to_string(),
            number: format!("+234{prefix}{}", digits(rng, 8)),
        })
        .collect()
}

fn customer_number(rng: &mut StdRng) -> String {
    let prefix = CUSTOMER_PREFIXES[rng.gen_range(0..CUSTOMER_PREFIXES.len())];
    format!("+234{prefix}{}", digits(rng, 8))
}

pub fn generate(seed: u64, size: SeedSize, now: Millis) -> Store {
    // Whole seconds, like the documentation's timestamps; live messages carry milliseconds.
    let now = now - now.rem_euclid(SECOND);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut store = Store::default();
    store.agents = agents(&mut rng);
    let count = match size {
        SeedSize::Demo => DEMO_CONVERSATIONS,
        SeedSize::Large => LARGE_CONVERSATIONS,
    };
    let mut pairs = HashSet::with_capacity(count);
    for i in 0..count {
        let big = size == SeedSize::Large && i == 0;
        let agent = {
            let r: f64 = rng.gen();
            let index = if r < 0.5 {
                0
            } else if r < 0.8 {
                1
            } else {
                2
            };
            store.agents[index].clone()
        };
        let customer = loop {
            let number = customer_number(&mut rng);
            if pairs.insert((agent.agent_id.clone(), number.clone())) {
                break number;
            }
        };
        let c = conversation(&mut rng, i, big, &agent, customer, now);
        if big {
            store.big_thread_id = Some(c.conversation_id.clone());
        }
        opt_out_if_stopped(&mut store, &c);
        store.insert(c);
    }
    store
}

fn opt_out_if_stopped(store: &mut Store, c: &Conversation) {
    let stopped = c
        .messages
        .iter()
        .rev()
        .find(|m| m.direction == Direction::Inbound)
        .is_some_and(|m| m.body == "STOP");
    if stopped {
        store.set_opt_out(&c.agent_id, &c.customer_number, true);
    }
}

fn conversation(
    rng: &mut StdRng,
    index: usize,
    big: bool,
    agent: &Agent,
    customer: String,
    now: Millis,
) -> Conversation {
    let channel = if big || rng.gen_bool(0.55) {
        Channel::Whatsapp
    } else {
        Channel::Sms
    };
    // Most activity is recent; a tail goes back a week (so many WhatsApp windows are expired).
    let u: f64 = rng.gen();
    let mut age = (u * u * u * 7.0 * (DAY / SECOND) as f64) as Millis * SECOND + 30 * SECOND;
    if channel == Channel::Whatsapp && index % 37 == 5 {
        // A window that closes within the hour.
        age = 23 * HOUR + 20 * MINUTE;
    }
    if big {
        age = 2 * MINUTE;
    }
    let last_at = now - age;
    let n = if big {
        BIG_THREAD_MESSAGES
    } else {
        let v: f64 = rng.gen();
        3 + (v * v * 27.0) as usize
    };
    let mode = match rng.gen_range(0..100) {
        _ if big => AiMode::Ai,
        0..=9 => AiMode::Closed,
        10..=24 => AiMode::Human,
        _ => AiMode::Ai,
    };
    let opted_out = !big && rng.gen_bool(0.05);

    let max_gap = if big { 4 * MINUTE } else { 15 * MINUTE };
    let mut times: Vec<Millis> = Vec::with_capacity(n);
    let mut t = last_at;
    for _ in 0..n {
        times.push(t);
        t -= rng.gen_range(20..max_gap / SECOND) * SECOND;
    }
    times.reverse();

    let conversation_id = format!("conv_{}", random_alnum(rng, 16));
    let mut c = new_conversation(
        conversation_id,
        &agent.agent_id,
        &agent.number,
        &customer,
        channel,
        times[0],
    );
    c.ai_mode = mode;
    c.messages = thread(rng, &times, channel, agent, &customer, opted_out, now);
    c.last_message_at = last_at;
    c.updated_at = last_at;
    if channel == Channel::Whatsapp {
        c.window_expires_at = c
            .messages
            .iter()
            .rev()
            .find(|m| m.direction == Direction::Inbound)
            .map(|m| m.created_at + DAY);
    }
    let mode_change = |from, to, at| ModeChange {
        actor_user_id: SEED_OPERATOR.to_string(),
        from_mode: from,
        to_mode: to,
        timestamp: at,
    };
    match mode {
        AiMode::Human => {
            let at = times[n / 2] + SECOND;
            c.mode_history
                .push(mode_change(AiMode::Ai, AiMode::Human, at));
        }
        AiMode::Closed => {
            let at = (last_at + 5 * MINUTE).min(now - SECOND);
            if rng.gen_bool(0.5) {
                c.mode_history.push(mode_change(
                    AiMode::Ai,
                    AiMode::Human,
                    times[n / 2] + SECOND,
                ));
                c.mode_history
                    .push(mode_change(AiMode::Human, AiMode::Closed, at));
            } else {
                c.mode_history
                    .push(mode_change(AiMode::Ai, AiMode::Closed, at));
            }
            c.updated_at = c.updated_at.max(at);
        }
        AiMode::Ai => {}
    }
    c
}

/// Messages at `times`: a support topic played out, padded with short replies.
fn thread(
    rng: &mut StdRng,
    times: &[Millis],
    channel: Channel,
    agent: &Agent,
    customer: &str,
    opted_out: bool,
    now: Millis,
) -> Vec<Message> {
    let topic = &TOPICS[rng.gen_range(0..TOPICS.len())];
    let order = rng.gen_range(1..999_999);
    let amount = rng.gen_range(5..500) * 500;
    let (mut next_customer, mut next_agent) = (0usize, 1usize);
    let mut direction = Direction::Inbound;
    let last = times.len() - 1;
    let mut messages = Vec::with_capacity(times.len());
    for (i, &at) in times.iter().enumerate() {
        if i == last && opted_out {
            direction = Direction::Inbound;
        }
        let body = if i == last && opted_out {
            "STOP".to_string()
        } else {
            let (cursor, fillers) = match direction {
                Direction::Inbound => (&mut next_customer, phrases::CUSTOMER_FILLERS),
                Direction::Outbound => (&mut next_agent, phrases::AGENT_FILLERS),
            };
            let line = match topic.lines.get(*cursor) {
                Some(line) => line,
                None => fillers[rng.gen_range(0..fillers.len())],
            };
            *cursor += 2;
            phrases::fill(line, order, amount)
        };
        let (status, error_code) = match direction {
            Direction::Inbound => (MessageStatus::Received, None),
            Direction::Outbound if rng.gen_bool(0.04) => {
                let code = phrases::FAILURE_CODES[rng.gen_range(0..phrases::FAILURE_CODES.len())];
                (MessageStatus::Failed, Some(code.to_string()))
            }
            Direction::Outbound if now - at < 2 * MINUTE => (MessageStatus::Sent, None),
            Direction::Outbound if channel == Channel::Whatsapp && rng.gen_bool(0.85) => {
                (MessageStatus::Read, None)
            }
            Direction::Outbound => (MessageStatus::Delivered, None),
        };
        let (from_number, to_number) = match direction {
            Direction::Inbound => (customer.to_string(), agent.number.clone()),
            Direction::Outbound => (agent.number.clone(), customer.to_string()),
        };
        messages.push(Message {
            message_id: format!("msg_{}", random_alnum(rng, 16)),
            direction,
            channel,
            message_type: "text".into(),
            body,
            status,
            from_number,
            to_number,
            created_at: at,
            error_code,
            media_url: None,
            media_caption: None,
        });
        // Mostly alternate; sometimes the same side writes twice.
        if !rng.gen_bool(0.15) {
            direction = match direction {
                Direction::Inbound => Direction::Outbound,
                Direction::Outbound => Direction::Inbound,
            };
        }
    }
    // Message keysets order by (created_at, message_id); times are strictly increasing.
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ListFilter;

    const NOW: Millis = 1_780_000_000_000;

    fn all(store: &Store) -> Vec<crate::model::ConversationItem> {
        let filter = ListFilter {
            agent_id: None,
            channel: None,
        };
        store.list(&filter, None, usize::MAX).0
    }

    #[test]
    fn demo_seed_is_deterministic_and_varied() {
        let a = generate(42, SeedSize::Demo, NOW);
        let b = generate(42, SeedSize::Demo, NOW);
        let (items_a, items_b) = (all(&a), all(&b));
        assert_eq!(items_a.len(), DEMO_CONVERSATIONS);
        assert_eq!(
            serde_json::to_string(&items_a).unwrap(),
            serde_json::to_string(&items_b).unwrap()
        );
        assert_ne!(
            all(&generate(7, SeedSize::Demo, NOW))[0].conversation_id,
            items_a[0].conversation_id
        );

        assert_eq!(a.agents.len(), 3);
        for agent in &a.agents {
            assert!(agent.agent_id.starts_with("agt_VBIP_") && agent.agent_id.len() == 21);
            assert!(agent.number.starts_with("+23490") || agent.number.starts_with("+23480"));
        }
        let ids: Vec<_> = items_a.iter().map(|i| i.conversation_id.clone()).collect();
        let convs: Vec<_> = ids.iter().filter_map(|id| a.conversation(id)).collect();
        let count = |f: &dyn Fn(&Conversation) -> bool| convs.iter().filter(|c| f(c)).count();
        assert!(count(&|c| c.channel == Channel::Sms) > 50);
        assert!(count(&|c| c.channel == Channel::Whatsapp) > 50);
        assert!(count(&|c| c.ai_mode == AiMode::Closed) > 5);
        assert!(count(&|c| c.ai_mode == AiMode::Human) > 5);
        assert!(count(&|c| a.is_opted_out(&c.agent_id, &c.customer_number)) > 3);
        assert!(count(&|c| c.channel == Channel::Whatsapp && !c.window_open(NOW)) > 5);
        assert!(count(&|c| c.channel == Channel::Whatsapp && c.window_open(NOW)) > 5);
        assert!(count(&|c| c.messages.iter().any(|m| m.status == MessageStatus::Failed)) > 5);
        for c in &convs {
            assert!((3..=30).contains(&c.messages.len()));
            assert!(c.customer_number.starts_with("+234") && c.customer_number.len() == 14);
            assert!(c
                .messages
                .windows(2)
                .all(|w| w[0].created_at < w[1].created_at));
            assert_eq!(c.last_message_at, c.messages.last().unwrap().created_at);
        }
    }

    #[test]
    fn large_seed_has_ten_thousand_conversations_and_a_big_thread() {
        let started = std::time::Instant::now();
        let store = generate(42, SeedSize::Large, NOW);
        let elapsed = started.elapsed();
        assert_eq!(store.conversation_count(), LARGE_CONVERSATIONS);
        let big = store
            .big_thread_id
            .as_deref()
            .and_then(|id| store.conversation(id));
        assert_eq!(big.map(|c| c.messages.len()), Some(BIG_THREAD_MESSAGES));
        // The 2 s budget is for release builds; debug builds are several times slower.
        assert!(elapsed.as_secs() < 20, "{elapsed:?}");
    }
}
