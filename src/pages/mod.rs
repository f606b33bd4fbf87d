//! Routed screens.

pub mod connect;
pub mod embed;
pub mod inbox;
pub mod not_found;
pub mod thread;
pub mod thread_chunk;
