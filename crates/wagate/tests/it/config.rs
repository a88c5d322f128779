//! A bad setting stops wagate at start with an error naming it.

use std::process::Command;

#[test]
fn bad_listen_address_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wagate"))
        .arg("serve")
        .current_dir(dir.path())
        .env("WAGATE_LISTEN", "x")
        .env_remove("WAGATE_CONFIG")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("WAGATE_LISTEN: invalid socket address 'x'"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "nothing is created on a bad config"
    );
}

#[test]
fn config_file_layer_and_unknown_settings() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("custom.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:1\"\nwa_ur = \"wss://x\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wagate"))
        .args(["--config", file.to_str().unwrap(), "migrate"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown setting 'wa_ur'"), "{stderr}");
}

#[test]
fn migrate_creates_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wagate"))
        .arg("migrate")
        .current_dir(dir.path())
        .env_remove("WAGATE_DATABASE_URL")
        .env_remove("WAGATE_DATA_DIR")
        .env_remove("WAGATE_CONFIG")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("data/wagate.db").is_file());
}
