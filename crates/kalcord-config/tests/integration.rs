mod integration {
    mod common;
    mod layering;
    mod secrets;
    mod tenant_secrets;
    mod vault;
}
