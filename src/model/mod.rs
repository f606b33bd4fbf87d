//! Plain data and pure logic. Nothing here touches the browser, so all of it is tested natively
//! with `cargo test`.

pub mod blocked;
pub mod conversation;
pub mod events;
pub mod export;
pub mod handoff;
pub mod ids;
pub mod inbox;
pub mod latest;
pub mod message;
pub mod readable;
pub mod segments;
pub mod short_sort;
pub mod thread;
pub mod thread_lines;
pub mod time;
pub mod window;

pub use conversation::{AiMode, Channel, Conversation, ConversationSummary, ModeChange};
pub use ids::{AgentId, ConversationId, MessageId};
pub use message::{Direction, Message, MessageStatus};
