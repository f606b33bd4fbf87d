//! The Voicebip operator console. `model` is pure and tested natively; everything that touches
//! the browser sits at the edges (`api`, `live`, `state`) and the view (`components`, `pages`).

pub mod api;
pub mod app;
pub mod components;
pub mod live;
pub mod model;
pub mod pages;
pub mod state;
