//! Namespace checks of the built `nested-probe` against util-linux
//! (`unshare`, `setpriv`, `pivot_root`, `hostname`) run by the test itself.
//! A test that needs a tool or uid 0 it does not have fails, unless
//! `NESTED_ALLOW_SKIP=1` lets it say `SKIPPED` (`common::cannot_run`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use serde_json::Value;

/// Whether `unshare` from util-linux can do `args` here.
fn util_unshare_ok(args: &[&str]) -> bool {
    run(Command::new("unshare").args(args).arg("true"))
        .status
        .success()
}

#[test]
fn user_namespace_checks_agree_with_util_linux_unshare() {
    if !tool("unshare") {
        return cannot_run("util-linux unshare not in PATH");
    }
    let r = json_report();
    // The test's own view of its user namespace.
    let own_map = std::fs::read_to_string("/proc/self/uid_map").unwrap();
    let own_fields: Vec<&str> = own_map.split_whitespace().collect();
    let in_userns = own_fields != ["0", "0", "4294967295"];
    assert_eq!(check(&r, "userns.current")["value"], in_userns);

    let can_unshare = util_unshare_ok(&["--user"]);
    assert_eq!(
        status(&r, "userns.unshare"),
        if can_unshare { "ok" } else { "fail" }
    );
    let can_map_root = util_unshare_ok(&["--user", "--map-root-user"]);
    assert_eq!(
        status(&r, "userns.map_root"),
        if can_map_root { "ok" } else { "fail" }
    );
    let can_mount_proc = util_unshare_ok(&[
        "--user",
        "--map-root-user",
        "--mount",
        "--pid",
        "--fork",
        "--mount-proc",
    ]);
    if can_map_root {
        assert_eq!(
            status(&r, "pidns.proc_mount"),
            if can_mount_proc { "ok" } else { "fail" },
            "{}",
            check(&r, "pidns.proc_mount")
        );
    }

    if !can_map_root {
        return cannot_run("cannot make a user namespace with a root map here");
    }
    // Second run inside a user namespace made by the test.
    let out = probe_under(&["unshare", "--user", "--map-root-user"], &["--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inner = parse(&out);
    let current = check(&inner, "userns.current");
    assert_eq!(current["value"], true, "{current}");
    let euid = own_euid();
    assert!(
        current["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("0 {euid} 1")),
        "{current}"
    );
    // Root inside its own user namespace holds every capability there.
    let eff = &check(&inner, "caps.effective")["value"]["hex"];
    let bnd = &check(&inner, "caps.bounding")["value"]["hex"];
    assert_eq!(eff, bnd);
}

#[test]
fn mapping_root_needs_setfcap() {
    if !tool("setpriv") || !tool("unshare") || own_euid() != 0 {
        return cannot_run("needs setpriv, unshare and uid 0");
    }
    // Root without SETFCAP in its bounding set (hence not effective after exec).
    let prefix = ["setpriv", "--bounding-set", "-setfcap"];
    let independent = run(Command::new("setpriv").args(&prefix[1..]).args([
        "unshare",
        "--user",
        "--map-root-user",
        "true",
    ]))
    .status
    .success();
    let out = probe_under(&prefix, &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let r = parse(&out);
    let map_root = check(&r, "userns.map_root");
    assert_eq!(
        map_root["status"],
        if independent { "ok" } else { "fail" },
        "{map_root}"
    );
    if !independent {
        assert!(
            map_root["detail"].as_str().unwrap().contains("CAP_SETFCAP"),
            "{map_root}"
        );
        // bubblewrap maps the current uid (0 here) and so cannot run.
        assert_eq!(r["verdicts"]["bubblewrap"]["runnable"], false);
    }
    assert_eq!(status(&r, "cap.setfcap"), "fail");
}

#[test]
fn unprivileged_user_maps_without_setfcap_and_lacks_net_admin() {
    if !tool("setpriv") || own_euid() != 0 {
        return cannot_run("needs setpriv and uid 0");
    }
    let prefix = [
        "setpriv",
        "--reuid",
        "65534",
        "--regid",
        "65534",
        "--clear-groups",
        "--bounding-set",
        "-all",
        "--inh-caps",
        "-all",
    ];
    // Observe the environment independently first.
    let env = run(Command::new("setpriv")
        .args(&prefix[1..])
        .args(["cat", "/proc/self/status"]));
    let env = String::from_utf8(env.stdout).unwrap();
    let bnd_line = env.lines().find(|l| l.starts_with("CapBnd:")).unwrap();
    let bnd = u64::from_str_radix(bnd_line.trim_start_matches("CapBnd:").trim(), 16).unwrap();

    let out = probe_under(&prefix, &["--json", "--sandbox", "nsjail"]);
    let r = parse(&out);
    let net_admin_possible = bnd & (1 << 12) != 0;
    assert_eq!(
        status(&r, "cap.net_admin"),
        if net_admin_possible { "ok" } else { "fail" }
    );
    if !net_admin_possible {
        assert_eq!(
            out.status.code(),
            Some(1),
            "nsjail must be reported not runnable"
        );
        assert_eq!(r["verdicts"]["nsjail"]["runnable"], false);
        assert!(
            r["verdicts"]["nsjail"]["failed"]
                .as_array()
                .unwrap()
                .contains(&Value::from("cap.net_admin"))
        );
    }
    // Mapping uid 0 inside onto 65534 outside does not map the parent's root.
    let independent = run(Command::new("setpriv").args(&prefix[1..]).args([
        "unshare",
        "--user",
        "--map-root-user",
        "true",
    ]))
    .status
    .success();
    assert_eq!(
        status(&r, "userns.map_root"),
        if independent { "ok" } else { "fail" }
    );
    if independent {
        assert!(
            check(&r, "userns.map_root")["detail"]
                .as_str()
                .unwrap()
                .contains("0 65534 1")
        );
    }
}

/// Runs `cmd` in a new mount namespace in which /proc is masked the way a
/// container runtime does with `procMount: Default` (a file hidden under
/// /dev/null, /proc/sys read-only).
fn with_masked_proc(cmd: &str) -> Output {
    let masked = [
        "/proc/timer_list",
        "/proc/keys",
        "/proc/kcore",
        "/proc/sched_debug",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("no maskable file in /proc");
    let script = format!(
        "mount --make-rprivate / && mount --bind /dev/null {masked} && \
         mount --bind -o ro /proc/sys /proc/sys && exec {cmd}"
    );
    run(Command::new("unshare").args(["--mount", "sh", "-c", &script]))
}

#[test]
fn masked_proc_is_detected() {
    if !tool("unshare") || !tool("mount") || own_euid() != 0 {
        return cannot_run("needs unshare, mount and uid 0");
    }
    // Independent observation under the same masking: can util-linux mount
    // a procfs in a new user+PID namespace?
    let util =
        with_masked_proc("unshare --user --map-root-user --mount --pid --fork --mount-proc true");
    let out = with_masked_proc(&format!("{BIN} --json --sandbox bubblewrap"));
    let r = parse(&out);
    let over = check(&r, "proc.overmounts");
    assert_eq!(over["status"], "fail", "{over}");
    assert!(
        over["value"]
            .as_array()
            .unwrap()
            .contains(&Value::from("/proc/sys")),
        "{over}"
    );
    let proc_mount = check(&r, "pidns.proc_mount");
    if util.status.success() {
        assert_eq!(proc_mount["status"], "ok", "{proc_mount}");
    } else {
        assert_eq!(proc_mount["status"], "fail", "{proc_mount}");
        assert!(
            proc_mount["detail"].as_str().unwrap().contains("EPERM"),
            "{proc_mount}"
        );
        assert_eq!(r["verdicts"]["bubblewrap"]["runnable"], false);
        assert_eq!(r["verdicts"]["podman"]["runnable"], false);
        assert_eq!(out.status.code(), Some(1));
    }
}

/// Whether the test can make a user namespace with a root map here (the
/// baseline for the util-linux comparisons below).
fn can_map_root() -> bool {
    tool("unshare") && util_unshare_ok(&["--user", "--map-root-user"])
}

#[test]
fn pivot_root_agrees_with_util_linux() {
    if !tool("pivot_root") || !tool("mount") || !can_map_root() {
        return cannot_run("needs unshare, mount, pivot_root and a root-mapped user namespace");
    }
    // bwrap's sequence: a tmpfs in a new user+mount namespace, then pivot_root.
    let independent = succeeds(Command::new("unshare").args([
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        "mount -t tmpfs none /tmp && cd /tmp && pivot_root . .",
    ]));
    let r = json_report();
    let c = check(&r, "mount.pivot_root");
    assert_eq!(c["status"], if independent { "ok" } else { "fail" }, "{c}");
    if !independent {
        assert_eq!(r["verdicts"]["bubblewrap"]["runnable"], false);
    }
}

#[test]
fn sethostname_agrees_with_util_linux() {
    if !tool("hostname") || !can_map_root() {
        return cannot_run("needs unshare, hostname and a root-mapped user namespace");
    }
    let independent = succeeds(Command::new("unshare").args([
        "--user",
        "--map-root-user",
        "--uts",
        "hostname",
        "nested-probe-test",
    ]));
    let r = json_report();
    let c = check(&r, "uts.sethostname");
    assert_eq!(c["status"], if independent { "ok" } else { "fail" }, "{c}");
    let podman = &r["verdicts"]["podman"];
    if !independent && podman["modes"]["uts-host"] == true {
        assert_eq!(podman["runtime_args"], serde_json::json!(["--uts=host"]));
    }
}

#[test]
fn root_jail_clones_agree_with_util_linux() {
    if !tool("unshare") || own_euid() != 0 {
        return cannot_run("needs unshare and uid 0 (Boundary does not re-execute as root)");
    }
    // Boundary as root: clone(NEWUSER|NEWNET) with "0 0 1", or NEWNET alone.
    let userns = util_unshare_ok(&["--user", "--net", "--map-current-user"]);
    let netns = util_unshare_ok(&["--net"]);
    let r = json_report();
    assert_eq!(status(&r, "nsjail.privileges"), "ok");
    assert_eq!(check(&r, "nsjail.privileges")["value"]["reexec"], false);
    assert_eq!(
        status(&r, "nsjail.jail_userns"),
        if userns { "ok" } else { "fail" }
    );
    assert_eq!(
        status(&r, "nsjail.jail_netns"),
        if netns { "ok" } else { "fail" }
    );
    let modes = &r["verdicts"]["nsjail"]["modes"];
    if status(&r, "cap.net_admin") == "ok" {
        assert_eq!(modes["user-namespace"], userns, "{modes}");
        assert_eq!(modes["no-user-namespace"], netns, "{modes}");
    }
}

#[test]
fn privilege_step_of_an_unprivileged_agent_agrees_with_sudo() {
    if !tool("setpriv") || own_euid() != 0 {
        return cannot_run("needs setpriv and uid 0");
    }
    let prefix = [
        "setpriv",
        "--reuid",
        "65534",
        "--regid",
        "65534",
        "--clear-groups",
        "--bounding-set",
        "-all",
        "--inh-caps",
        "-all",
    ];
    // Independently: can this user become root through sudo at all?
    let sudo_works = tool("sudo")
        && succeeds(
            Command::new("setpriv")
                .args(&prefix[1..])
                .args(["sudo", "-n", "true"]),
        );
    let r = parse(&probe_under(&prefix, &["--json"]));
    let c = check(&r, "nsjail.privileges");
    assert_eq!(c["value"]["reexec"], true, "{c}");
    if !sudo_works {
        assert_eq!(c["status"], "fail", "{c}");
        assert_eq!(r["verdicts"]["nsjail"]["runnable"], false);
        // The jail clones are not attempted again after a failed step.
        assert_ne!(status(&r, "nsjail.jail_userns"), "ok");
    }
}
