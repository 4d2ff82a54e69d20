mod integration {
    mod common;
    mod interactions;
    mod lifecycle;
    mod rest;
    mod routes;
    mod webhook;
}
