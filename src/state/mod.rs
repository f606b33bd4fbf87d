//! Reactive stores shared through context, and the browser storage behind them.

pub mod base;
pub mod config;
pub mod drafts;
pub mod embed;
pub mod notify;
pub mod session;
pub mod storage;
pub mod tabs;
pub mod warm_start;

pub use config::Config;
pub use session::Session;
