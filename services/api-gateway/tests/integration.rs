mod integration {
    mod common;
    mod interactions;
    mod launch;
    mod lifecycle;
    mod rest;
    mod routes;
    mod webhook;
}
