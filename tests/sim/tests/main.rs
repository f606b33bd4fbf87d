//! The simulator against `shared/API.md`, over HTTP: one module per endpoint or concern.
//!
//! The files are modules of one test binary: as binaries of their own, each linked every
//! dependency again (a link, and some 25 MB of disk, each).

mod common;

mod auth_errors;
mod console;
mod control;
mod conversations;
mod export;
mod faults;
mod guide;
mod inbound;
mod messages;
mod stream;
