mod integration {
    mod common;
    mod contract;
}
