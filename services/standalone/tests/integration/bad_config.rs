//! Bad configuration exits with 64 and lists every bad key at once.

use kalcord_test_util::process::binary;

#[test]
fn every_bad_key_is_listed_and_the_exit_code_is_64() {
    let output = std::process::Command::new(binary("kalcord"))
        .args(["--set", "api_gateway.listen=not-an-address", "--set", "bus.backend=kafka", "--set", "nonsense.key=1"])
        .env("KALCORD_SHUTDOWN_TIMEOUT", "soon")
        // NOTE: a variable that is not UTF-8 must not crash the process.
        .env("UNRELATED_BYTES", <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"\xff\xfe"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("4 invalid configuration fields"), "{stderr}");
    for key in [
        "api_gateway.listen (from --set)",
        "bus.backend (from --set)",
        "nonsense.key (from --set): unknown key",
        "shutdown.timeout (from env KALCORD_SHUTDOWN_TIMEOUT)",
    ] {
        assert!(stderr.contains(key), "missing {key}: {stderr}");
    }
}

#[test]
fn help_config_lists_every_key_with_its_env_name() {
    let output = std::process::Command::new(binary("kalcord")).arg("--help-config").output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("bus.backend  [KALCORD_BUS_BACKEND]  (default memory; services: nats)"), "{stdout}");
    assert!(stdout.contains("api_gateway.listen  [KALCORD_API_GATEWAY_LISTEN]"), "{stdout}");
}
