//! View pieces, named for what the operator sees.

pub mod announcer;
pub mod badges;
pub mod clock;
pub mod composer;
pub mod conversation_list;
pub mod error_banner;
pub mod export_panel;
pub mod focus;
pub mod handoff_bar;
pub mod message_list;
pub mod notice;
pub mod observe;
