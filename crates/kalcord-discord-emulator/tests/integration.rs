mod integration {
    mod admin;
    mod commands;
    mod common;
    mod events;
    mod gateway;
    mod interactions;
    mod oauth;
    mod ratelimit;
    mod rest;
    mod robustness;
    mod wsclient;
}
