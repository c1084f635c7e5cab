//! Seccomp mode, capability sets, whether a capability is usable, and
//! NoNewPrivs, all from /proc/self/status.

use serde_json::json;

use super::Context;
use crate::model::Outcome;
use crate::procfs::{self, ProcStatus};

pub(crate) fn status_or_unknown(ctx: &Context) -> Result<&ProcStatus, Outcome> {
    ctx.status.as_ref().map_err(|e| Outcome::unknown(e.clone()))
}

/// `seccomp.mode`: `Seccomp` and `Seccomp_filters`.
pub fn seccomp_mode(ctx: &Context) -> Outcome {
    let s = match status_or_unknown(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    match s.seccomp {
        Some(mode) => {
            let filters = s
                .seccomp_filters
                .map_or_else(String::new, |n| format!(", {n} filter(s)"));
            Outcome::ok(format!(
                "mode {mode} ({}){filters}",
                procfs::seccomp_mode_name(mode)
            ))
            .with_value(json!({"mode": mode, "filters": s.seccomp_filters}))
        }
        None => Outcome::unknown(
            "no Seccomp field in /proc/self/status (kernel without CONFIG_SECCOMP?)",
        ),
    }
}

fn cap_set(ctx: &Context, field: &str, mask: fn(&ProcStatus) -> Option<u64>) -> Outcome {
    let s = match status_or_unknown(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    match mask(s) {
        Some(m) => {
            let names = procfs::capability_names(m);
            let missing: Vec<&str> = procfs::CAPABILITY_NAMES
                .iter()
                .copied()
                .filter(|n| !names.iter().any(|have| have == n))
                .collect();
            // Short for the table: list whichever side is smaller.
            let shown = if names.is_empty() {
                "(none)".to_string()
            } else if missing.len() < names.len() {
                format!(
                    "{} capabilities, all known ones except {}",
                    names.len(),
                    if missing.is_empty() {
                        "none".to_string()
                    } else {
                        missing.join(",")
                    }
                )
            } else {
                names.join(",")
            };
            Outcome::ok(format!("{field} {m:016x}: {shown}"))
                .with_value(json!({"hex": format!("{m:016x}"), "names": names}))
        }
        None => Outcome::unknown(format!("no {field} field in /proc/self/status")),
    }
}

/// `caps.effective`: CapEff decoded.
pub fn effective_set(ctx: &Context) -> Outcome {
    cap_set(ctx, "CapEff", |s| s.cap_eff)
}

/// `caps.bounding`: CapBnd decoded.
pub fn bounding_set(ctx: &Context) -> Outcome {
    cap_set(ctx, "CapBnd", |s| s.cap_bnd)
}

/// Whether the process can use capability `name`: effective now, or in the
/// bounding set with NoNewPrivs off, so a setuid or file-capability helper
/// (sudo + setpriv as Coder's nsjail does, newuidmap) can obtain it.
fn cap_usable(ctx: &Context, name: &str) -> Outcome {
    let s = match status_or_unknown(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let Some(bit) = procfs::capability_bit(name) else {
        return Outcome::unknown(format!("unknown capability {name}"));
    };
    let (eff, bnd, nnp) = (s.effective(bit), s.bounding(bit), s.no_new_privs);
    let value = json!({"effective": eff, "bounding": bnd});
    match (eff, bnd, nnp) {
        (Some(true), _, _) => Outcome::ok(format!("{name} is effective")),
        (Some(false), Some(true), Some(false)) => Outcome::ok(format!(
            "{name} is not effective but in the bounding set with NoNewPrivs=0: obtainable through a setuid or \
             file-capability helper (sudo/setpriv, newuidmap)"
        )),
        (Some(false), Some(true), Some(true)) => Outcome::fail(format!(
            "{name} is only in the bounding set and NoNewPrivs=1 (allowPrivilegeEscalation: false) keeps helpers \
             from obtaining it"
        )),
        (Some(false), Some(false), _) => Outcome::fail(format!(
            "{name} is not in the bounding set (add it under securityContext.capabilities.add)"
        )),
        _ => Outcome::unknown(format!("CapEff/CapBnd/NoNewPrivs incomplete in /proc/self/status for {name}")),
    }
    .with_value(value)
}

/// `cap.net_admin`.
pub fn net_admin(ctx: &Context) -> Outcome {
    cap_usable(ctx, "NET_ADMIN")
}

/// `cap.sys_admin`.
pub fn sys_admin(ctx: &Context) -> Outcome {
    cap_usable(ctx, "SYS_ADMIN")
}

/// `cap.setuid`.
pub fn setuid(ctx: &Context) -> Outcome {
    cap_usable(ctx, "SETUID")
}

/// `cap.setgid`.
pub fn setgid(ctx: &Context) -> Outcome {
    cap_usable(ctx, "SETGID")
}

/// `cap.setfcap`.
pub fn setfcap(ctx: &Context) -> Outcome {
    cap_usable(ctx, "SETFCAP")
}

/// SETUID and SETGID both effective: the process (e.g. root in a
/// `hostUsers: false` pod) can write multi-id maps for its children itself,
/// without newuidmap/newgidmap.
pub fn setid_effective(ctx: &Context) -> Outcome {
    let s = match status_or_unknown(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let bits = ["SETUID", "SETGID"].map(|n| procfs::capability_bit(n).and_then(|b| s.effective(b)));
    match bits {
        [Some(true), Some(true)] => Outcome::ok(
            "SETUID and SETGID are effective: can write uid/gid maps for child namespaces itself",
        ),
        [Some(_), Some(_)] => Outcome::fail(format!(
            "not both effective (SETUID: {}, SETGID: {}): uid/gid ranges need newuidmap/newgidmap",
            bits[0] == Some(true),
            bits[1] == Some(true)
        )),
        _ => Outcome::unknown("no CapEff field in /proc/self/status"),
    }
}

/// `no_new_privs`: NoNewPrivs (allowPrivilegeEscalation: false sets it).
pub fn no_new_privs(ctx: &Context) -> Outcome {
    let s = match status_or_unknown(ctx) {
        Ok(s) => s,
        Err(o) => return o,
    };
    match s.no_new_privs {
        Some(false) => Outcome::ok("NoNewPrivs: 0 (privilege escalation through setuid/file capabilities possible)")
            .with_value(json!(false)),
        Some(true) => Outcome::fail(
            "NoNewPrivs: 1 (allowPrivilegeEscalation: false): setuid and file-capability helpers gain nothing",
        )
        .with_value(json!(true)),
        None => Outcome::unknown("no NoNewPrivs field in /proc/self/status"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::ctx_with;
    use crate::model::Status;

    #[test]
    fn capability_usability_rules() {
        // NET_ADMIN (bit 12) effective.
        let c = ctx_with("CapEff:\t0000000000001000\nCapBnd:\t0000000000001000\nNoNewPrivs:\t1\n");
        assert_eq!(net_admin(&c).status, Status::Ok);
        // Bounding only, escalation allowed.
        let c = ctx_with("CapEff:\t0000000000000000\nCapBnd:\t0000000000001000\nNoNewPrivs:\t0\n");
        assert_eq!(net_admin(&c).status, Status::Ok);
        // Bounding only, NoNewPrivs set.
        let c = ctx_with("CapEff:\t0000000000000000\nCapBnd:\t0000000000001000\nNoNewPrivs:\t1\n");
        assert_eq!(net_admin(&c).status, Status::Fail);
        // Not in the bounding set.
        let c = ctx_with("CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t0\n");
        let o = net_admin(&c);
        assert_eq!(o.status, Status::Fail);
        assert!(o.detail.contains("capabilities.add"), "{}", o.detail);
        // Fields missing: unknown, never ok.
        let c = ctx_with("Name:\tx\n");
        assert_eq!(net_admin(&c).status, Status::Unknown);
        let c = Context {
            status: Err("nope".into()),
            ..ctx_with("")
        };
        assert_eq!(sys_admin(&c).status, Status::Unknown);
        assert_eq!(seccomp_mode(&c).status, Status::Unknown);
        assert_eq!(no_new_privs(&c).status, Status::Unknown);
    }

    #[test]
    fn seccomp_and_no_new_privs_from_status() {
        let c = ctx_with("NoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t3\n");
        let s = seccomp_mode(&c);
        assert_eq!(s.status, Status::Ok);
        assert_eq!(s.value, json!({"mode": 2, "filters": 3}));
        assert_eq!(no_new_privs(&c).status, Status::Fail);
        assert!(c.seccomp_note().contains("3 filter"));
    }
}
