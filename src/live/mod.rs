//! Following a conversation live over Server-Sent Events.

mod status;
mod stream;

pub use status::{ConnectionStatus, LinkState};
pub use stream::{follow, Handlers, StreamHandle};
