//! Reactive stores shared through context, and the browser storage behind them.

pub mod config;
pub mod drafts;
pub mod session;
pub mod storage;
pub mod tabs;

pub use config::Config;
pub use session::Session;
