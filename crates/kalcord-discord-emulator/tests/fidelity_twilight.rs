#[path = "integration/common.rs"]
#[allow(dead_code)]
mod common;
#[path = "integration/wsclient.rs"]
#[allow(dead_code)]
mod wsclient;

mod fidelity_twilight {
    mod gateway;
    mod http;
    mod model;
    mod support;
    mod validator;
}
