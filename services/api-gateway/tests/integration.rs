mod integration {
    mod common;
    mod interactions;
    mod lifecycle;
    mod routes;
}
