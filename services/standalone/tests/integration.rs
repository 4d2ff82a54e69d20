mod integration {
    mod bad_config;
    mod config_docs;
    mod discord_cli;
    mod distributed;
    mod interactions_e2e;
    mod kaltura_sync;
    mod meetings_distributed;
    mod meetings_e2e;
    mod notifications_e2e;
    mod sandbox;
    mod standalone;
}
