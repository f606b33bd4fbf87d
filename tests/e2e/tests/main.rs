//! The end-to-end tests: the built console in headless Chromium, driven through WebDriver against
//! the simulator, one module per capability.
//!
//! The files are modules of one test binary: as binaries of their own, each linked every
//! dependency again (a link, and some 25 MB of disk, each).

mod common;

mod a11y;
mod cdn;
mod connect;
mod embed;
mod errors;
mod export;
mod fresh_inbox;
mod handoff;
mod harness;
mod inbox;
mod inbox_navigation;
mod live;
mod reply;
mod thread;
mod thread_chunk;
mod warm_start;
