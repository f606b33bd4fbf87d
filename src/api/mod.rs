//! The typed HTTP client for the Voicebip API: one function per endpoint, one error type, and the
//! retry policy for reads. It knows nothing of Leptos.

mod client;
pub mod deadline;
mod error;
pub mod retry;
mod types;

pub use client::{key_is_well_formed, Begun, Client, Wait};
pub use error::ApiError;
pub use types::{ListPage, SendMessage, SendTemplate, SentMessage};
