mod integration {
    mod common;
    mod layering;
    mod secrets;
    mod vault;
}
