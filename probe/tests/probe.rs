//! Runs the built `nested-probe` on this machine and compares what it reports
//! with what the test observes itself (own syscalls, own reads of /proc and
//! /sys, util-linux `unshare`/`setpriv`). No expected value is hard-coded:
//! every expectation is derived from an independent observation. The
//! namespace tests are in `namespaces.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

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
        // The judged mode is one of the sandbox's modes, with the same verdict.
        let mode = v["mode"].as_str().unwrap();
        assert_eq!(v["modes"][mode], v["runnable"], "{sandbox}: {v}");
        let args = v["runtime_args"].as_array().unwrap();
        if !args.is_empty() {
            assert_ne!(v["runnable"], true, "{sandbox}: {v}");
            assert!(v["modes"].as_object().unwrap().values().any(|r| r == true));
        }
        assert!(v["warnings"].is_array(), "{sandbox}: {v}");
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

#[test]
fn nsjail_mode_follows_boundarys_own_variable() {
    let default = parse(&probe_with_env(&[], &["--json"]));
    let nsjail = &default["verdicts"]["nsjail"];
    if std::env::var_os("BOUNDARY_NO_USER_NAMESPACE").is_none() {
        assert_eq!(nsjail["mode"], "user-namespace", "{nsjail}");
    }
    let set = parse(&probe_with_env(
        &[("BOUNDARY_NO_USER_NAMESPACE", "true")],
        &["--json"],
    ));
    let v = &set["verdicts"]["nsjail"];
    assert_eq!(v["mode"], "no-user-namespace", "{v}");
    assert_eq!(v["runnable"], v["modes"]["no-user-namespace"], "{v}");
    let bogus = parse(&probe_with_env(
        &[("BOUNDARY_NO_USER_NAMESPACE", "maybe")],
        &["--json"],
    ));
    let v = &bogus["verdicts"]["nsjail"];
    assert_eq!(v["mode"], "user-namespace", "{v}");
    assert!(v["warnings"].to_string().contains("not a boolean"), "{v}");
}

/// The test's own reading of /etc/subuid or /etc/subgid for a user.
fn own_subids(path: &str, name: &str, id: u32) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut ranges: Vec<(u64, u64)> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.trim().split(':').collect();
            let mine = f.len() == 3 && (f[0] == name || f[0] == id.to_string());
            let (start, count) = (f.get(1)?.parse().ok()?, f.get(2)?.parse().ok()?);
            (mine && count > 0).then_some((start, count))
        })
        .collect();
    ranges.sort_unstable();
    ranges
        .into_iter()
        .map(|(s, c)| serde_json::json!([s, c]))
        .collect()
}

#[test]
fn subid_ranges_match_own_reading() {
    let euid = own_euid();
    let name = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/passwd")
                .ok()?
                .lines()
                .find_map(|l| {
                    let f: Vec<&str> = l.split(':').collect();
                    (f.get(2)? == &euid.to_string()).then(|| f[0].to_string())
                })
        });
    let r = json_report();
    let c = check(&r, "subid.ranges");
    if c["status"] == "unknown" {
        return;
    }
    let name = name.unwrap_or_default();
    assert_eq!(
        c["value"]["uid"],
        Value::from(own_subids("/etc/subuid", &name, euid)),
        "{c}"
    );
    assert_eq!(
        c["value"]["gid"],
        Value::from(own_subids("/etc/subgid", &name, euid)),
        "{c}"
    );
    let none = c["value"]["uid"].as_array().unwrap().is_empty()
        && c["value"]["gid"].as_array().unwrap().is_empty();
    let podman = &r["verdicts"]["podman"];
    let warned = podman["warnings"].to_string().contains("single-id");
    assert_eq!(warned, none && euid != 0, "{podman}");
}
