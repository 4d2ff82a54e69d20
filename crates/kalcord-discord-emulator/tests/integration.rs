mod integration {
    mod admin;
    mod commands;
    mod common;
    mod events;
    mod gateway;
    mod guilds;
    mod interactions;
    mod oauth;
    mod ratelimit;
    mod rest;
    mod robustness;
    mod scale;
    mod wsclient;
}
