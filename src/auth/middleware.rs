//! The authentication middleware moved to `http::guard::authenticate`; this
//! path stays only until the router assembly (in `http`/`app`) names it there.

pub use crate::http::guard::authenticate::authenticate;
