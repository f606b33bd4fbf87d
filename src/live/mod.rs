//! Following a conversation live over Server-Sent Events.

pub mod frame_batch;
mod status;
mod stream;

pub use status::{ConnectionStatus, LinkState};
pub use stream::{follow, Handlers, StreamHandle};
