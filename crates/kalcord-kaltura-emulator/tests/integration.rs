mod integration {
    mod admin;
    mod common;
    mod faults;
    mod kaf;
    mod multirequest;
    mod recordings;
    mod robustness;
    mod schedule;
    mod sessions;
    mod users;
    mod wire;
}
