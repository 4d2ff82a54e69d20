mod integration {
    mod common;
    mod contract;
    mod startup;
}
