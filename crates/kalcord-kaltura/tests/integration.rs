mod integration {
    mod common;
    mod errors;
    mod meetings;
    mod resilience;
    mod sessions;
    mod users;
}
