//! cgroup v2 and whether the process's own cgroup is delegated (writable).

use std::path::Path;

use serde_json::{Value, json};

use super::{Context, io_text, is_not_found, read};
use crate::model::{Outcome, Status};
use crate::procfs;
use crate::sys::{self, errno_text};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// `cgroup.v2`: a unified hierarchy at /sys/fs/cgroup.
pub fn v2(ctx: &Context) -> Outcome {
    let controllers = format!("{CGROUP_ROOT}/cgroup.controllers");
    match read(&controllers) {
        Ok(t) => {
            let list = procfs::parse_controllers(&t);
            Outcome::ok(format!(
                "unified cgroup v2 at {CGROUP_ROOT}; controllers: {}",
                if list.is_empty() {
                    "(none)".to_string()
                } else {
                    list.join(" ")
                }
            ))
            .with_value(json!(list))
        }
        Err(e) if is_not_found(&e) => match &ctx.mounts {
            Ok(m) => {
                let at_root = procfs::fstypes_at(m, CGROUP_ROOT);
                let unified = procfs::fstypes_at(m, &format!("{CGROUP_ROOT}/unified"));
                if at_root.is_empty() {
                    Outcome::fail(format!("no cgroup filesystem mounted at {CGROUP_ROOT}"))
                } else if unified.contains(&"cgroup2") {
                    Outcome::fail(format!(
                        "hybrid hierarchy: cgroup v1 controllers under {CGROUP_ROOT}, cgroup2 only at \
                         {CGROUP_ROOT}/unified"
                    ))
                } else if at_root.contains(&"cgroup2") {
                    Outcome::unknown(format!(
                        "cgroup2 mounted at {CGROUP_ROOT} but {controllers} is missing"
                    ))
                } else {
                    Outcome::fail(format!(
                        "cgroup v1 ({CGROUP_ROOT} is {})",
                        at_root.join(", ")
                    ))
                }
            }
            Err(me) => Outcome::unknown(format!("{}; {me}", io_text(&controllers, &e))),
        },
        Err(e) => Outcome::unknown(io_text(&controllers, &e)),
    }
}

/// `cgroup.delegation`: the own cgroup and its control files are writable.
pub fn delegation(ctx: &Context) -> Outcome {
    let v2 = v2(ctx);
    if v2.status != Status::Ok {
        return Outcome {
            status: v2.status,
            detail: format!("no usable unified hierarchy: {}", v2.detail),
            value: Value::Null,
        };
    }
    let own = match read("/proc/self/cgroup") {
        Ok(t) => procfs::parse_cgroup_v2_path(&t),
        Err(e) => return Outcome::unknown(io_text("/proc/self/cgroup", &e)),
    };
    let Some(own) = own else {
        return Outcome::unknown("no \"0::\" line in /proc/self/cgroup");
    };
    let root = Path::new(CGROUP_ROOT);
    let candidate = root.join(own.trim_start_matches('/'));
    let (dir, note) = if candidate.is_dir() {
        (candidate, String::new())
    } else {
        (
            root.to_path_buf(),
            format!(
                " (own cgroup {own} is not visible below {CGROUP_ROOT}; checked the mount root)"
            ),
        )
    };
    let mut problems = Vec::new();
    for path in [
        dir.clone(),
        dir.join("cgroup.procs"),
        dir.join("cgroup.subtree_control"),
    ] {
        if let Err(e) = sys::writable(&path) {
            problems.push(format!("{}: {}", path.display(), errno_text(e)));
        }
    }
    let value = json!({"path": dir.display().to_string()});
    if problems.is_empty() {
        Outcome::ok(format!(
            "{} and its cgroup.procs/cgroup.subtree_control are writable{note}",
            dir.display()
        ))
        .with_value(value)
    } else {
        Outcome::fail(format!("not writable: {}{note}", problems.join("; "))).with_value(value)
    }
}
