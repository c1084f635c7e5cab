//! Rootless podman's uid/gid maps: which newuidmap/newgidmap are installed
//! and what they need (`uidmap.helpers`), and the user's /etc/subuid and
//! /etc/subgid ranges (`subid.ranges`). The real helper run is in
//! `newuidmap.rs`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Context, io_text, is_not_found, read};
use crate::model::Outcome;
use crate::procfs::{self, IdMapLine};
use crate::subid::{self, SubIdRange};
use crate::sys::{self, errno_text};

/// newuidmap or newgidmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Uid,
    Gid,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Uid => "newuidmap",
            Tool::Gid => "newgidmap",
        }
    }
    /// The capability a file-capability helper carries.
    pub fn file_cap(self) -> &'static str {
        match self {
            Tool::Uid => "SETUID",
            Tool::Gid => "SETGID",
        }
    }
    fn sub_file(self) -> &'static str {
        match self {
            Tool::Uid => "/etc/subuid",
            Tool::Gid => "/etc/subgid",
        }
    }
    fn map_file(self) -> &'static str {
        match self {
            Tool::Uid => "/proc/self/uid_map",
            Tool::Gid => "/proc/self/gid_map",
        }
    }
}

/// How a helper binary gets its privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperKind {
    /// Mode 4755 owned by root (Debian and Ubuntu images).
    SetuidRoot,
    /// `security.capability` (`setcap cap_setuid=ep`; Fedora and podman images).
    FileCaps,
    /// Neither.
    Plain,
}

impl HelperKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HelperKind::SetuidRoot => "setuid root",
            HelperKind::FileCaps => "file capabilities",
            HelperKind::Plain => "no privilege",
        }
    }
}

/// The bounding set and NoNewPrivs: what decides whether a helper works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privs {
    pub bounding: Option<u64>,
    pub no_new_privs: Option<bool>,
}

impl Privs {
    pub fn of(ctx: &Context) -> Self {
        let s = ctx.status.as_ref().ok();
        Privs {
            bounding: s.and_then(|s| s.cap_bnd),
            no_new_privs: s.and_then(|s| s.no_new_privs),
        }
    }
    /// Whether capability `name` is in the bounding set.
    pub fn in_bounding(self, name: &str) -> Option<bool> {
        let bit = procfs::capability_bit(name)?;
        self.bounding.map(|m| m & (1u64 << bit) != 0)
    }
}

/// What a helper of `kind` needs that is missing here, for a non-root
/// user; `Ok` when nothing is missing (or unknown). Setuid-root helpers
/// open the map file as euid 0, which is not the owner of the user's new
/// namespace, so the kernel requires CAP_SYS_ADMIN (`map_write`), and the
/// file belongs to the user, so opening it needs CAP_DAC_OVERRIDE (the
/// node lab: "open of uid_map failed: Permission denied" without it); file
/// capabilities keep the user's euid, but execve refuses them when they
/// exceed the bounding set.
pub fn helper_rule(kind: HelperKind, tool: Tool, privs: Privs) -> Result<(), String> {
    if privs.no_new_privs == Some(true) && kind != HelperKind::Plain {
        return Err(
            "NoNewPrivs=1 (allowPrivilegeEscalation: false): setuid and file-capability helpers gain nothing"
                .to_string(),
        );
    }
    match kind {
        HelperKind::SetuidRoot => {
            let missing: Vec<&str> = ["SYS_ADMIN", "DAC_OVERRIDE"]
                .into_iter()
                .filter(|c| privs.in_bounding(c) == Some(false))
                .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "a setuid-root newuidmap/newgidmap writes the map as euid 0: the map file belongs to \
                     the user (opening it needs CAP_DAC_OVERRIDE) and euid 0 does not own the new user \
                     namespace (the kernel requires CAP_SYS_ADMIN); not in the bounding set: {} (add \
                     them, or use file-capability helpers: setcap cap_setuid=ep newuidmap, cap_setgid=ep \
                     newgidmap)",
                    missing.join(", ")
                ))
            }
        }
        HelperKind::FileCaps if privs.in_bounding(tool.file_cap()) == Some(false) => Err(format!(
            "{} has file capabilities, but {} is not in the bounding set, so execve refuses it (add {} \
             under capabilities.add)",
            tool.name(),
            tool.file_cap(),
            tool.file_cap()
        )),
        HelperKind::Plain => Err(format!(
            "{} is neither setuid root nor has file capabilities",
            tool.name()
        )),
        _ => Ok(()),
    }
}

/// Directories searched for the helpers: $PATH, then the usual ones.
fn search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for d in ["/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin", "/sbin"] {
        let d = PathBuf::from(d);
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    dirs
}

/// The helper podman would run (the first in $PATH), else one in the
/// usual directories.
pub fn find_tool(tool: Tool) -> Option<PathBuf> {
    search_path()
        .into_iter()
        .map(|d| d.join(tool.name()))
        .find(|p| p.is_file())
}

/// How `path` gets its privilege.
pub fn helper_kind(path: &Path) -> Result<HelperKind, String> {
    let meta = fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.permissions().mode() & 0o4000 != 0 && meta.uid() == 0 {
        return Ok(HelperKind::SetuidRoot);
    }
    match sys::has_file_caps(path) {
        Ok(true) => Ok(HelperKind::FileCaps),
        Ok(false) => Ok(HelperKind::Plain),
        Err(e) => Err(format!(
            "{}: reading security.capability: {}",
            path.display(),
            errno_text(e)
        )),
    }
}

/// `uidmap.helpers`: newuidmap/newgidmap installed, and what their kind
/// needs (a prediction; `uidmap.newuidmap` runs them).
pub fn helpers_installed(ctx: &Context) -> Outcome {
    let privs = Privs::of(ctx);
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    for tool in [Tool::Uid, Tool::Gid] {
        let Some(path) = find_tool(tool) else {
            problems.push(format!(
                "{} not found in PATH or the usual directories (package uidmap / shadow-utils)",
                tool.name()
            ));
            continue;
        };
        match helper_kind(&path) {
            Err(e) => unknown.push(e),
            Ok(kind) => {
                found.push(format!("{} ({})", path.display(), kind.as_str()));
                if ctx.euid != 0
                    && let Err(e) = helper_rule(kind, tool, privs)
                    && !problems.contains(&e)
                {
                    problems.push(e);
                }
            }
        }
    }
    if !problems.is_empty() {
        Outcome::fail(problems.join("; "))
    } else if !unknown.is_empty() {
        Outcome::unknown(unknown.join("; "))
    } else {
        Outcome::ok(format!(
            "{}{}",
            found.join(", "),
            if ctx.euid == 0 {
                "; as uid 0 they run with this process's own capabilities"
            } else {
                "; their kind's requirements are met (bounding set, NoNewPrivs=0)"
            }
        ))
    }
}

/// The user's sub-id ranges and the ids this user namespace maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub user: Option<String>,
    pub uid: u32,
    pub gid: u32,
    pub uid_ranges: Vec<SubIdRange>,
    pub gid_ranges: Vec<SubIdRange>,
    pub uid_map: Vec<IdMapLine>,
    pub gid_map: Vec<IdMapLine>,
}

impl Plan {
    /// Reads /etc/passwd ($USER first, as podman does), /etc/subuid,
    /// /etc/subgid and this process's uid/gid maps.
    pub fn gather(ctx: &Context) -> Result<Plan, String> {
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| subid::user_name(&read("/etc/passwd").unwrap_or_default(), ctx.euid));
        let ranges = |tool: Tool| -> Result<Vec<SubIdRange>, String> {
            match read(tool.sub_file()) {
                Ok(t) => Ok(subid::ranges_for(&t, user.as_deref(), ctx.euid)),
                Err(e) if is_not_found(&e) => Ok(Vec::new()),
                Err(e) => Err(io_text(tool.sub_file(), &e)),
            }
        };
        let map = |tool: Tool| -> Result<Vec<IdMapLine>, String> {
            let text = read(tool.map_file()).map_err(|e| io_text(tool.map_file(), &e))?;
            procfs::parse_id_map(&text).ok_or_else(|| format!("cannot parse {}", tool.map_file()))
        };
        Ok(Plan {
            uid: ctx.euid,
            gid: ctx.egid,
            uid_ranges: ranges(Tool::Uid)?,
            gid_ranges: ranges(Tool::Gid)?,
            uid_map: map(Tool::Uid)?,
            gid_map: map(Tool::Gid)?,
            user,
        })
    }

    pub fn ranges(&self, tool: Tool) -> &[SubIdRange] {
        match tool {
            Tool::Uid => &self.uid_ranges,
            Tool::Gid => &self.gid_ranges,
        }
    }

    pub fn own_id(&self, tool: Tool) -> u32 {
        match tool {
            Tool::Uid => self.uid,
            Tool::Gid => self.gid,
        }
    }

    /// Ranges that this user namespace does not map.
    pub fn outside(&self, tool: Tool) -> Vec<SubIdRange> {
        let map = match tool {
            Tool::Uid => &self.uid_map,
            Tool::Gid => &self.gid_map,
        };
        subid::outside_of_map(self.ranges(tool), map)
    }

    /// Problems podman or the kernel would refuse, per tool.
    pub fn problems(&self, tool: Tool) -> Vec<String> {
        let mut p = Vec::new();
        let outside = self.outside(tool);
        if !outside.is_empty() {
            p.push(format!(
                "{} range(s) {} lie outside the ids this user namespace maps ({}), and the kernel refuses \
                 to map ids the parent does not have",
                tool.sub_file(),
                subid::show(&outside),
                show_map(match tool {
                    Tool::Uid => &self.uid_map,
                    Tool::Gid => &self.gid_map,
                })
            ));
        }
        let own = self.own_id(tool);
        if let Some(r) = self.ranges(tool).iter().find(|r| r.contains(own)) {
            p.push(format!(
                "{} range {r} includes the user's own id {own}, which podman rejects (\"invalid \
                 configuration\")",
                tool.sub_file()
            ));
        }
        p
    }
}

fn show_map(map: &[IdMapLine]) -> String {
    map.iter()
        .map(|l| format!("{} {} {}", l.inside, l.outside, l.count))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ranges_json(r: &[SubIdRange]) -> Value {
    json!(r.iter().map(|r| [r.start, r.count]).collect::<Vec<_>>())
}

/// `subid.ranges`: the value is `{"user", "uid": [[start, count]…], "gid": …}`.
pub fn subid_ranges(ctx: &Context) -> Outcome {
    let plan = match Plan::gather(ctx) {
        Ok(p) => p,
        Err(e) => return Outcome::unknown(e),
    };
    let who = format!(
        "{} (uid {}, gid {})",
        plan.user.as_deref().unwrap_or("(no name)"),
        plan.uid,
        plan.gid
    );
    let value = json!({
        "user": plan.user,
        "uid": ranges_json(&plan.uid_ranges),
        "gid": ranges_json(&plan.gid_ranges),
        "uid_outside": ranges_json(&plan.outside(Tool::Uid)),
        "gid_outside": ranges_json(&plan.outside(Tool::Gid)),
    });
    if plan.uid_ranges.is_empty() && plan.gid_ranges.is_empty() {
        return Outcome::fail(format!(
            "no /etc/subuid or /etc/subgid ranges for {who}: podman falls back to a single-id mapping \
             (container id 0 only)"
        ))
        .with_value(value);
    }
    let problems: Vec<String> = [Tool::Uid, Tool::Gid]
        .into_iter()
        .flat_map(|t| plan.problems(t))
        .collect();
    let shown = format!(
        "{who}: /etc/subuid {}, /etc/subgid {}",
        subid::show(&plan.uid_ranges),
        subid::show(&plan.gid_ranges)
    );
    if problems.is_empty() {
        let partial = match (plan.uid_ranges.is_empty(), plan.gid_ranges.is_empty()) {
            (true, _) => "; no uid ranges: podman maps only the own uid",
            (_, true) => "; no gid ranges: podman maps only the own gid",
            _ => "",
        };
        Outcome::ok(format!(
            "{shown}, all inside the ids this user namespace maps{partial}"
        ))
        .with_value(value)
    } else {
        Outcome::fail(format!("{shown}: {}", problems.join("; "))).with_value(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn privs(bounding: u64, nnp: bool) -> Privs {
        Privs {
            bounding: Some(bounding),
            no_new_privs: Some(nnp),
        }
    }

    // containerd's 14 default capabilities (no SYS_ADMIN), as in the lab.
    const DEFAULT14: u64 = 0xa804_25fb;
    const SYS_ADMIN: u64 = 1 << 21;
    const SETUID: u64 = 1 << 7;

    #[test]
    fn setuid_root_helpers_need_sys_admin() {
        // pm-p1 fails, pm-p8 (+SYS_ADMIN) works.
        let e = helper_rule(HelperKind::SetuidRoot, Tool::Uid, privs(DEFAULT14, false));
        assert!(e.is_err_and(|e| e.contains("CAP_SYS_ADMIN")));
        assert!(
            helper_rule(
                HelperKind::SetuidRoot,
                Tool::Uid,
                privs(DEFAULT14 | SYS_ADMIN, false)
            )
            .is_ok()
        );
        // The node lab on containerd: SETUID+SETGID+SYS_ADMIN after drop ALL
        // fails ("open of uid_map failed"); with DAC_OVERRIDE it works.
        const DAC_OVERRIDE: u64 = 1 << 1;
        const SETGID: u64 = 1 << 6;
        let dropped = privs(SETUID | SETGID | SYS_ADMIN, false);
        let e = helper_rule(HelperKind::SetuidRoot, Tool::Uid, dropped);
        assert!(e.is_err_and(|e| e.contains("not in the bounding set: DAC_OVERRIDE")));
        let both = privs(SETUID | SETGID | SYS_ADMIN | DAC_OVERRIDE, false);
        assert!(helper_rule(HelperKind::SetuidRoot, Tool::Uid, both).is_ok());
    }

    #[test]
    fn file_capability_helpers_need_their_cap_and_no_nnp() {
        // pm-p2 works; pm-p5 (nnp), pm-p6 (drop ALL), pm-p18 (SETUID only) fail.
        assert!(helper_rule(HelperKind::FileCaps, Tool::Uid, privs(DEFAULT14, false)).is_ok());
        let nnp = helper_rule(HelperKind::FileCaps, Tool::Uid, privs(DEFAULT14, true));
        assert!(nnp.is_err_and(|e| e.contains("NoNewPrivs")));
        assert!(helper_rule(HelperKind::FileCaps, Tool::Uid, privs(0, false)).is_err());
        assert!(helper_rule(HelperKind::FileCaps, Tool::Uid, privs(SETUID, false)).is_ok());
        let gid = helper_rule(HelperKind::FileCaps, Tool::Gid, privs(SETUID, false));
        assert!(gid.is_err_and(|e| e.contains("SETGID")));
        assert!(helper_rule(HelperKind::Plain, Tool::Gid, privs(DEFAULT14, false)).is_err());
        // Unknown sets are not reported as a problem.
        let unknown = Privs {
            bounding: None,
            no_new_privs: None,
        };
        assert!(helper_rule(HelperKind::SetuidRoot, Tool::Uid, unknown).is_ok());
    }

    fn plan(uid_ranges: &[SubIdRange], map: &str) -> Plan {
        let map = procfs::parse_id_map(map).unwrap_or_default();
        Plan {
            user: Some("user".into()),
            uid: 1000,
            gid: 1000,
            uid_ranges: uid_ranges.to_vec(),
            gid_ranges: uid_ranges.to_vec(),
            uid_map: map.clone(),
            gid_map: map,
        }
    }

    #[test]
    fn plan_problems() {
        let r = |start, count| SubIdRange { start, count };
        let ok = plan(&[r(1, 999), r(1001, 64535)], "0 100000 65536\n");
        assert!(ok.problems(Tool::Uid).is_empty());
        // pm-p17: the host-style range inside a pod user namespace.
        let out = plan(&[r(100000, 65536)], "0 100000 65536\n");
        let p = out.problems(Tool::Gid);
        assert_eq!(p.len(), 1);
        assert!(
            p[0].contains("/etc/subgid") && p[0].contains("0 100000 65536"),
            "{p:?}"
        );
        // pm-p4: the same range without a pod user namespace is fine.
        assert!(
            plan(&[r(100000, 65536)], "0 0 4294967295\n")
                .problems(Tool::Uid)
                .is_empty()
        );
        let own = plan(&[r(1, 65535)], "0 0 4294967295\n");
        assert!(own.problems(Tool::Uid)[0].contains("own id 1000"));
    }
}
