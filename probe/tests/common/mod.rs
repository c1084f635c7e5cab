//! Helpers shared by the integration tests: run the built binary, parse its
//! JSON, and read the test's own view of the process.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_nested-probe");
pub const SANDBOXES: [&str; 4] = ["nsjail", "landjail", "bubblewrap", "podman"];

pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

pub fn probe(args: &[&str]) -> Output {
    run(Command::new(BIN).args(args))
}

/// Runs `prefix... nested-probe args...` (e.g. under `unshare` or `setpriv`).
pub fn probe_under(prefix: &[&str], args: &[&str]) -> Output {
    run(Command::new(prefix[0])
        .args(&prefix[1..])
        .arg(BIN)
        .args(args))
}

pub fn parse(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn json_report() -> Value {
    let out = probe(&["--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&out)
}

pub fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
}

pub fn status<'a>(report: &'a Value, name: &str) -> &'a str {
    check(report, name)["status"].as_str().unwrap()
}

/// Environment variable that lets a test skip what this machine cannot run
/// (no uid 0, a missing tool): it then says `SKIPPED` and passes. Unset
/// (CI), a test that cannot run fails, so a skip never passes unseen.
pub const ALLOW_SKIP_ENV: &str = "NESTED_ALLOW_SKIP";

/// A test that cannot run here: fails, unless `NESTED_ALLOW_SKIP=1`.
pub fn cannot_run(why: &str) {
    if std::env::var(ALLOW_SKIP_ENV).as_deref() == Ok("1") {
        eprintln!("SKIPPED ({ALLOW_SKIP_ENV}=1): {why}");
    } else {
        panic!(
            "this test cannot run here: {why}. Run it as root with util-linux \
             (`bash acceptance/lab/setup.sh` installs the tools), or set {ALLOW_SKIP_ENV}=1 to skip it visibly"
        );
    }
}

pub fn tool(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false)
}

pub fn own_status_field(key: &str) -> String {
    let text = std::fs::read_to_string("/proc/self/status").unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {key} in /proc/self/status"))
}

pub fn own_euid() -> u32 {
    own_status_field("Uid")
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

/// Runs `nested-probe args...` with extra environment variables.
pub fn probe_with_env(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// Whether `cmd` exits 0.
pub fn succeeds(cmd: &mut Command) -> bool {
    run(cmd).status.success()
}
