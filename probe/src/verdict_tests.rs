//! Unit tests of the verdict rules, with check results as the lab observed
//! them in real pod containers (scenario names from the lab's comparison).

use std::collections::HashMap;

use serde_json::json;

use super::*;

/// Every check named by a requirement, all with `status`.
fn all_checks_with(status: Status) -> HashMap<String, Status> {
    REQUIREMENTS
        .iter()
        .flat_map(|r| r.any_of.iter().flat_map(|a| a.iter()))
        .map(|c| ((*c).to_string(), status))
        .collect()
}

fn with(changes: &[(&str, Status)]) -> HashMap<String, Status> {
    let mut m = all_checks_with(Status::Ok);
    for (name, status) in changes {
        m.insert((*name).to_string(), *status);
    }
    m
}

fn facts(euid: u32, subids: Option<bool>) -> Facts {
    Facts {
        euid,
        subids,
        env: Vec::new(),
    }
}

fn judge(s: Sandbox, f: &Facts, m: &HashMap<String, Status>) -> Verdict {
    verdict(s, REQUIREMENTS, f, |n| m.get(n).copied())
}

const FAIL: Status = Status::Fail;
const UNKNOWN: Status = Status::Unknown;

#[test]
fn all_ok_is_runnable_in_the_default_mode() {
    let m = all_checks_with(Status::Ok);
    for euid in [0, 1000] {
        for s in Sandbox::ALL {
            let v = judge(s, &facts(euid, Some(true)), &m);
            assert_eq!(v.runnable, Some(true), "{s:?}");
            assert!(v.failed.is_empty() && v.unknown.is_empty() && v.unmet.is_empty());
            assert!(v.runtime_args.is_empty() && v.warnings.is_empty(), "{v:?}");
            assert_eq!(Some(v.mode), modes_of(s).next().map(|m| m.name));
            assert!(v.modes.0.iter().all(|(_, r)| *r == Some(true)));
        }
    }
}

#[test]
fn unknown_checks_give_a_null_verdict() {
    let m = all_checks_with(Status::Unknown);
    for s in Sandbox::ALL {
        let v = judge(s, &facts(1000, Some(true)), &m);
        assert_eq!(v.runnable, None, "{s:?}");
        assert!(v.failed.is_empty());
        assert!(!v.unknown.is_empty());
    }
    // A check missing from the report counts as unknown.
    let v = verdict(Sandbox::Landjail, REQUIREMENTS, &facts(0, None), |_| None);
    assert_eq!(v.runnable, None);
    assert_eq!(
        v.unknown,
        ["landlock.lsm", "landlock.abi", "landlock.restrict"]
    );
}

#[test]
fn a_failure_beats_an_unknown() {
    let m = with(&[("landlock.abi", FAIL), ("landlock.restrict", UNKNOWN)]);
    let v = judge(Sandbox::Landjail, &facts(1000, None), &m);
    assert_eq!(v.runnable, Some(false));
    assert_eq!(v.failed, ["landlock.abi"]);
    assert_eq!(v.unknown, ["landlock.restrict"]);
    assert_eq!(v.unmet.len(), 2);
}

#[test]
fn an_alternative_that_is_unknown_makes_a_failed_row_unknown() {
    let f = facts(1000, Some(true));
    let v = judge(
        Sandbox::Podman,
        &f,
        &with(&[("dev.fuse", FAIL), ("overlay.userns", UNKNOWN)]),
    );
    assert_eq!(v.runnable, None);
    assert_eq!(v.failed, ["dev.fuse"]);
    assert_eq!(v.unknown, ["overlay.userns"]);
    let v = judge(Sandbox::Podman, &f, &with(&[("dev.fuse", FAIL)]));
    assert_eq!(v.runnable, Some(true));
    assert!(v.failed.is_empty(), "a met row names no failures");
}

#[test]
fn masked_proc_blocks_bubblewrap_and_podman_only() {
    let m = with(&[("pidns.proc_mount", FAIL)]);
    let f = facts(1000, Some(true));
    assert_eq!(judge(Sandbox::Bubblewrap, &f, &m).runnable, Some(false));
    assert_eq!(judge(Sandbox::Podman, &f, &m).runnable, Some(false));
    assert_eq!(judge(Sandbox::Nsjail, &f, &m).runnable, Some(true));
    assert_eq!(judge(Sandbox::Landjail, &f, &m).runnable, Some(true));
}

#[test]
fn bubblewrap_needs_pivot_root() {
    // bw-c-moby-sysadmin: RuntimeDefault + SYS_ADMIN allows the namespaces
    // and the procfs, never pivot_root.
    let v = judge(
        Sandbox::Bubblewrap,
        &facts(1000, None),
        &with(&[("mount.pivot_root", FAIL)]),
    );
    assert_eq!(v.runnable, Some(false));
    assert_eq!(v.failed, ["mount.pivot_root"]);
    assert!(v.runtime_args.is_empty());
    // bw-a4-nosetfcap: root without SETFCAP cannot write "0 0 1".
    let v = judge(
        Sandbox::Bubblewrap,
        &facts(0, None),
        &with(&[("userns.map_self", FAIL)]),
    );
    assert_eq!(v.runnable, Some(false));
}

#[test]
fn nsjail_privilege_step_failures_block_both_modes() {
    // nj-b1/b2 (sudo cannot change to root gid), b4 (NoNewPrivs), b9/b12
    // (setpriv cannot raise SYS_ADMIN): the probe's re-executed helper fails.
    let m = with(&[
        ("nsjail.privileges", FAIL),
        ("nsjail.jail_userns", FAIL),
        ("nsjail.jail_netns", FAIL),
    ]);
    let v = judge(Sandbox::Nsjail, &facts(1000, None), &m);
    assert_eq!(v.runnable, Some(false));
    assert_eq!(v.mode, "user-namespace");
    assert!(v.failed.contains(&"nsjail.privileges"), "{v:?}");
    assert_eq!(v.modes.get("user-namespace"), Some(Some(false)));
    assert_eq!(v.modes.get("no-user-namespace"), Some(Some(false)));
    assert!(v.runtime_args.is_empty());
}

#[test]
fn nsjail_reports_the_mode_that_works() {
    // nj-r1-root: root with NET_ADMIN+SYS_ADMIN, no SETFCAP; also nj-max0.
    let m = with(&[("nsjail.jail_userns", FAIL)]);
    let v = judge(Sandbox::Nsjail, &facts(0, None), &m);
    assert_eq!(v.runnable, Some(false), "the default mode fails");
    assert_eq!(v.failed, ["nsjail.jail_userns"]);
    assert_eq!(v.modes.get("no-user-namespace"), Some(Some(true)));
    assert_eq!(v.runtime_args, ["--no-user-namespace"]);
    assert!(v.warnings.iter().any(|w| w.contains("--no-user-namespace")));

    // nj-r3-root-nouserns: Boundary configured through its own variable.
    let mut f = facts(0, None);
    f.env = vec![("BOUNDARY_NO_USER_NAMESPACE", "true".into())];
    let v = judge(Sandbox::Nsjail, &f, &m);
    assert_eq!(v.runnable, Some(true));
    assert_eq!(v.mode, "no-user-namespace");
    assert!(v.runtime_args.is_empty() && v.failed.is_empty());

    // Configured for --no-user-namespace, but only the default works.
    let m = with(&[("nsjail.jail_netns", FAIL)]);
    let v = judge(Sandbox::Nsjail, &f, &m);
    assert_eq!(v.runnable, Some(false));
    assert!(v.runtime_args.is_empty());
    assert!(v.warnings.iter().any(|w| w.contains("mode user-namespace")));

    // A value that is not a boolean is ignored, with a warning.
    f.env = vec![("BOUNDARY_NO_USER_NAMESPACE", "yes".into())];
    let v = judge(Sandbox::Nsjail, &f, &with(&[]));
    assert_eq!(v.mode, "user-namespace");
    assert!(v.warnings.iter().any(|w| w.contains("not a boolean")));
    f.env = vec![("BOUNDARY_NO_USER_NAMESPACE", "0".into())];
    assert_eq!(
        judge(Sandbox::Nsjail, &f, &with(&[])).mode,
        "user-namespace"
    );
}

#[test]
fn podman_with_subordinate_ids_needs_working_helpers() {
    let f = facts(1000, Some(true));
    // pm-p1: Debian's setuid-root newuidmap without SYS_ADMIN.
    let v = judge(Sandbox::Podman, &f, &with(&[("uidmap.newuidmap", FAIL)]));
    assert_eq!(v.runnable, Some(false));
    assert_eq!(v.failed, ["uidmap.newuidmap"]);
    // pm-p17: ranges outside the pod's ids.
    let v = judge(
        Sandbox::Podman,
        &f,
        &with(&[("subid.ranges", FAIL), ("uidmap.newuidmap", FAIL)]),
    );
    assert_eq!(v.failed, ["subid.ranges", "uidmap.newuidmap"]);
    // The single-id path does not rescue a configured but broken map.
    let v = judge(
        Sandbox::Podman,
        &f,
        &with(&[("uidmap.newuidmap", FAIL), ("userns.map_root", Status::Ok)]),
    );
    assert_eq!(v.runnable, Some(false));
    assert!(v.warnings.is_empty());
}

#[test]
fn podman_without_subordinate_ids_runs_with_a_warning() {
    // pm-p9-nosubuid: no entries, drop ALL, NoNewPrivs: podman maps 0 → 1000.
    let m = with(&[
        ("subid.ranges", FAIL),
        ("uidmap.newuidmap", FAIL),
        ("caps.setid_effective", FAIL),
    ]);
    let v = judge(Sandbox::Podman, &facts(1000, Some(false)), &m);
    assert_eq!(v.runnable, Some(true), "{v:?}");
    assert!(v.failed.is_empty());
    assert!(v.warnings.iter().any(|w| w.contains("single-id")), "{v:?}");
    // Unreadable sub-id files: the map row cannot be decided.
    let v = judge(
        Sandbox::Podman,
        &facts(1000, None),
        &with(&[("subid.ranges", UNKNOWN)]),
    );
    assert_eq!(v.runnable, None);
    assert_eq!(v.unknown, ["subid.ranges"]);
    // As root, podman writes its maps itself.
    let v = judge(Sandbox::Podman, &facts(0, None), &m);
    assert_eq!(v.runnable, Some(false));
    assert_eq!(v.failed, ["caps.setid_effective"]);
}

#[test]
fn podman_under_the_cri_o_profile_needs_uts_host() {
    // pm-p7-crio: sethostname EPERM without SYS_ADMIN.
    let v = judge(
        Sandbox::Podman,
        &facts(1000, Some(true)),
        &with(&[("uts.sethostname", FAIL)]),
    );
    assert_eq!(v.runnable, Some(false));
    assert_eq!(v.failed, ["uts.sethostname"]);
    assert_eq!(v.runtime_args, ["--uts=host"]);
    assert_eq!(v.modes.get("uts-host"), Some(Some(true)));
    // When something else fails too, --uts=host is not offered.
    let v = judge(
        Sandbox::Podman,
        &facts(1000, Some(true)),
        &with(&[("uts.sethostname", FAIL), ("pidns.proc_mount", FAIL)]),
    );
    assert!(v.runtime_args.is_empty());
    assert_eq!(v.modes.get("uts-host"), Some(Some(false)));
}

#[test]
fn go_booleans_and_the_subids_fact() {
    for t in ["1", "t", "T", "true", "TRUE", "True"] {
        assert_eq!(parse_go_bool(t), Some(true), "{t}");
    }
    for f in ["", "0", "f", "false", "False"] {
        assert_eq!(parse_go_bool(f), Some(false), "{f}");
    }
    assert_eq!(parse_go_bool("yes"), None);
    assert_eq!(
        Facts::subids_from_value(&json!({"uid": [[1, 2]], "gid": []})),
        Some(true)
    );
    assert_eq!(
        Facts::subids_from_value(&json!({"uid": [], "gid": []})),
        Some(false)
    );
    assert_eq!(Facts::subids_from_value(&json!(null)), None);
}

#[test]
fn verdicts_serialize_with_modes_in_order() {
    let v = judge(
        Sandbox::Nsjail,
        &facts(0, None),
        &with(&[("nsjail.jail_userns", FAIL)]),
    );
    let j = serde_json::to_value(&v).unwrap_or_default();
    assert_eq!(j["mode"], "user-namespace");
    assert_eq!(
        j["modes"],
        json!({"user-namespace": false, "no-user-namespace": true})
    );
    assert_eq!(j["runtime_args"], json!(["--no-user-namespace"]));
    let keys: Vec<&String> = j
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "runnable",
            "mode",
            "failed",
            "unknown",
            "unmet",
            "warnings",
            "modes",
            "runtime_args"
        ]
    );
}
