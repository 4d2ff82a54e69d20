//! The emulated `api_v3`: request parsing, dispatch, services, serialisation.

pub(crate) mod auth;
pub(crate) mod dispatch;
pub(crate) mod errors;
pub(crate) mod form;
pub(crate) mod handler;
pub(crate) mod json;
pub(crate) mod list;
pub(crate) mod multirequest;
pub(crate) mod object;
pub(crate) mod params;
pub(crate) mod request;
pub(crate) mod schema;
pub(crate) mod services;
pub(crate) mod value;
pub(crate) mod xml;
