//! Runs the built `nested-probe` on this machine and compares what it reports
//! with what the test observes itself (own syscalls, own reads of /proc and
//! /sys, util-linux `unshare`/`setpriv`). No expected value is hard-coded:
//! every expectation is derived from an independent observation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_nested-probe");
const SANDBOXES: [&str; 4] = ["nsjail", "landjail", "bubblewrap", "podman"];

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn probe(args: &[&str]) -> Output {
    run(Command::new(BIN).args(args))
}

/// Runs `prefix... nested-probe args...` (e.g. under `unshare` or `setpriv`).
fn probe_under(prefix: &[&str], args: &[&str]) -> Output {
    run(Command::new(prefix[0])
        .args(&prefix[1..])
        .arg(BIN)
        .args(args))
}

fn parse(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn json_report() -> Value {
    let out = probe(&["--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&out)
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
}

fn status<'a>(report: &'a Value, name: &str) -> &'a str {
    check(report, name)["status"].as_str().unwrap()
}

fn tool(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false)
}

fn own_status_field(key: &str) -> String {
    let text = std::fs::read_to_string("/proc/self/status").unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {key} in /proc/self/status"))
}

fn own_euid() -> u32 {
    own_status_field("Uid")
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

/// The test's own Landlock probe, independent of the crate's sys module.
#[allow(unsafe_code)]
fn own_landlock_abi() -> Result<i64, i32> {
    // SAFETY: null attr with size 0 and the VERSION flag (1): the kernel
    // reads no memory and creates no descriptor.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    if rc >= 0 {
        Ok(rc)
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap())
    }
}

#[test]
fn json_report_is_well_formed_and_verdicts_are_consistent() {
    let r = json_report();
    assert_eq!(r["probe_version"], env!("CARGO_PKG_VERSION"));
    let checks = r["checks"].as_array().unwrap();
    assert!(checks.len() >= 20, "{} checks", checks.len());
    let mut names = Vec::new();
    for c in checks {
        let name = c["name"].as_str().unwrap();
        assert!(!names.contains(&name), "duplicate check {name}");
        names.push(name);
        let st = c["status"].as_str().unwrap();
        assert!(["ok", "fail", "unknown"].contains(&st), "{name}: {st}");
        assert!(
            !c["detail"].as_str().unwrap().is_empty(),
            "{name} has no detail"
        );
        assert!(c.get("value").is_some(), "{name} has no value field");
    }
    let verdicts = r["verdicts"].as_object().unwrap();
    assert_eq!(verdicts.keys().collect::<Vec<_>>(), SANDBOXES);
    for (sandbox, v) in verdicts {
        let failed = v["failed"].as_array().unwrap();
        let unknown = v["unknown"].as_array().unwrap();
        for f in failed {
            assert_eq!(status(&r, f.as_str().unwrap()), "fail", "{sandbox}: {f}");
        }
        for u in unknown {
            assert_eq!(status(&r, u.as_str().unwrap()), "unknown", "{sandbox}: {u}");
        }
        match v["runnable"].as_bool() {
            Some(true) => assert!(failed.is_empty() && unknown.is_empty(), "{sandbox}: {v}"),
            Some(false) => assert!(!failed.is_empty(), "{sandbox}: {v}"),
            None => {
                assert!(v["runnable"].is_null(), "{sandbox}: {v}");
                assert!(failed.is_empty() && !unknown.is_empty(), "{sandbox}: {v}");
            }
        }
    }
}

#[test]
fn kernel_release_matches_uname() {
    let r = json_report();
    let uname = run(Command::new("uname").arg("-r"));
    let release = String::from_utf8(uname.stdout).unwrap().trim().to_string();
    assert_eq!(r["kernel_release"], release.as_str());
    assert_eq!(status(&r, "kernel.release"), "ok");
}

#[test]
fn landlock_abi_matches_the_tests_own_syscall() {
    let r = json_report();
    let abi = check(&r, "landlock.abi");
    match own_landlock_abi() {
        Ok(v) => {
            assert_eq!(abi["value"], v, "{abi}");
            assert_eq!(abi["status"], if v >= 4 { "ok" } else { "fail" }, "{abi}");
            assert_eq!(status(&r, "landlock.lsm"), "ok");
            // With ABI >= 4 a network ruleset must be enforceable.
            assert_eq!(
                status(&r, "landlock.restrict"),
                if v >= 4 { "ok" } else { "fail" }
            );
        }
        Err(e) => {
            assert!(abi["value"].is_null(), "{abi}");
            assert_eq!(abi["status"], "fail", "{abi}");
            assert_eq!(status(&r, "landlock.restrict"), "fail");
            if e == libc::EOPNOTSUPP {
                assert_eq!(status(&r, "landlock.lsm"), "fail");
            }
        }
    }
    // landjail's verdict follows the ABI.
    let landjail = &r["verdicts"]["landjail"]["runnable"];
    if matches!(own_landlock_abi(), Ok(v) if v < 4) || own_landlock_abi().is_err() {
        assert_eq!(*landjail, false);
    }
    if let Ok(list) = std::fs::read_to_string("/sys/kernel/security/lsm") {
        let value = &check(&r, "landlock.lsm")["value"];
        let expected: Vec<&str> = list.trim().split(',').collect();
        assert_eq!(*value, serde_json::json!(expected));
    }
}

#[test]
fn user_namespace_sysctl_matches_the_file() {
    let r = json_report();
    let c = check(&r, "userns.sysctl");
    match std::fs::read_to_string("/proc/sys/user/max_user_namespaces") {
        Ok(t) => {
            let n: u64 = t.trim().parse().unwrap();
            assert_eq!(c["value"], n);
            assert_eq!(c["status"], if n > 0 { "ok" } else { "fail" });
            if n == 0 {
                assert_eq!(status(&r, "userns.unshare"), "fail");
            }
        }
        Err(_) => assert_eq!(c["status"], "unknown"),
    }
}

#[test]
fn capabilities_seccomp_and_no_new_privs_match_own_status() {
    // The probe is spawned directly (no setuid), so its sets equal ours.
    let r = json_report();
    let eff = u64::from_str_radix(&own_status_field("CapEff"), 16).unwrap();
    let bnd = u64::from_str_radix(&own_status_field("CapBnd"), 16).unwrap();
    let nnp = own_status_field("NoNewPrivs") == "1";
    for (check_name, mask) in [("caps.effective", eff), ("caps.bounding", bnd)] {
        let v = &check(&r, check_name)["value"];
        assert_eq!(v["hex"], format!("{mask:016x}"), "{check_name}");
        let names = v["names"].as_array().unwrap();
        assert_eq!(names.len(), mask.count_ones() as usize, "{check_name}");
        // Bit numbers from include/uapi/linux/capability.h.
        for (bit, name) in [
            (12, "NET_ADMIN"),
            (21, "SYS_ADMIN"),
            (7, "SETUID"),
            (31, "SETFCAP"),
        ] {
            assert_eq!(
                names.contains(&Value::from(name)),
                mask & (1 << bit) != 0,
                "{check_name} {name}"
            );
        }
    }
    for (check_name, bit) in [
        ("cap.net_admin", 12),
        ("cap.sys_admin", 21),
        ("cap.setuid", 7),
        ("cap.setgid", 6),
    ] {
        let usable = eff & (1 << bit) != 0 || (bnd & (1 << bit) != 0 && !nnp);
        assert_eq!(
            status(&r, check_name),
            if usable { "ok" } else { "fail" },
            "{check_name}"
        );
    }
    assert_eq!(status(&r, "no_new_privs"), if nnp { "fail" } else { "ok" });
    let seccomp = &check(&r, "seccomp.mode")["value"];
    assert_eq!(
        seccomp["mode"],
        own_status_field("Seccomp").parse::<u64>().unwrap()
    );
    assert_eq!(
        seccomp["filters"],
        own_status_field("Seccomp_filters").parse::<u64>().unwrap()
    );
}

#[test]
fn devices_and_cgroups_match_own_observations() {
    let r = json_report();
    for (path, name) in [("/dev/fuse", "dev.fuse"), ("/dev/net/tun", "dev.net_tun")] {
        let opens = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .is_ok();
        assert_eq!(
            status(&r, name),
            if opens { "ok" } else { "fail" },
            "{name}"
        );
    }
    let controllers = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers");
    match controllers {
        Ok(t) => {
            assert_eq!(status(&r, "cgroup.v2"), "ok");
            let listed: Vec<&str> = t.split_whitespace().collect();
            assert_eq!(check(&r, "cgroup.v2")["value"], serde_json::json!(listed));
        }
        Err(_) => assert_ne!(status(&r, "cgroup.v2"), "ok"),
    }
    let selinux_present = Path::new("/sys/fs/selinux/enforce").exists();
    let state = &check(&r, "selinux")["value"]["state"];
    assert_eq!(selinux_present, *state != "absent", "{state}");
}

/// Whether `unshare` from util-linux can do `args` here.
fn util_unshare_ok(args: &[&str]) -> bool {
    run(Command::new("unshare").args(args).arg("true"))
        .status
        .success()
}

#[test]
fn user_namespace_checks_agree_with_util_linux_unshare() {
    if !tool("unshare") {
        eprintln!("SKIPPED: util-linux unshare not in PATH");
        return;
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
        eprintln!("SKIPPED second run: cannot make a user namespace with a root map here");
        return;
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
        eprintln!("SKIPPED: needs setpriv, unshare and uid 0");
        return;
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
        eprintln!("SKIPPED: needs setpriv and uid 0");
        return;
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

#[test]
fn exit_code_follows_the_selected_verdict() {
    for sandbox in SANDBOXES {
        let out = probe(&["--json", "--sandbox", sandbox]);
        let r = parse(&out);
        let expected = if r["verdicts"][sandbox]["runnable"] == true {
            0
        } else {
            1
        };
        assert_eq!(
            out.status.code(),
            Some(expected),
            "{sandbox}: {}",
            r["verdicts"][sandbox]
        );
    }
    // Without --sandbox: 0 whenever the report was produced.
    assert_eq!(probe(&[]).status.code(), Some(0));
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["--sandbox", "docker"][..],
        &["--sandbox"],
        &["--frobnicate"],
        &["--json", "extra"],
        &["__check", "no.such.check"],
        &["__check"],
    ] {
        let out = probe(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}: no message");
    }
}

#[test]
fn human_table_names_every_check_and_sandbox() {
    let out = probe(&[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let r = json_report();
    for c in r["checks"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        assert!(
            text.lines()
                .any(|l| l.starts_with(name) && l.contains(c["status"].as_str().unwrap())),
            "{name} missing from:\n{text}"
        );
    }
    for s in SANDBOXES {
        assert!(
            text.lines().any(|l| l.starts_with(s)),
            "{s} missing from:\n{text}"
        );
    }
}

#[test]
fn helper_subcommand_prints_one_outcome_line() {
    let out = probe(&["__check", "userns.unshare"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    assert!(["ok", "fail", "unknown"].contains(&v["status"].as_str().unwrap()));
    // In-process checks are not helpers.
    assert_eq!(probe(&["__check", "kernel.release"]).status.code(), Some(2));
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
        eprintln!("SKIPPED: needs unshare, mount and uid 0");
        return;
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
