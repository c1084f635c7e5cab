//! SELinux and AppArmor state (informational).

use std::path::Path;

use serde_json::json;

use super::{Context, io_text, is_not_found, read};
use crate::model::Outcome;

/// `selinux`: enforcing, permissive or absent, and the process context.
pub fn selinux(_: &Context) -> Outcome {
    const ENFORCE: &str = "/sys/fs/selinux/enforce";
    match read(ENFORCE) {
        Ok(t) => {
            let state = match t.trim() {
                "1" => "enforcing",
                "0" => "permissive",
                _ => {
                    return Outcome::unknown(format!(
                        "unexpected content of {ENFORCE}: {:?}",
                        t.trim()
                    ));
                }
            };
            let context = read("/proc/self/attr/current")
                .map(|c| c.trim_end_matches(['\0', '\n']).to_string())
                .ok();
            Outcome::ok(format!(
                "{state}{}",
                context
                    .as_deref()
                    .map_or_else(String::new, |c| format!("; process context {c}"))
            ))
            .with_value(json!({"state": state, "context": context}))
        }
        Err(e) if is_not_found(&e) && !Path::new("/sys/fs/selinux").exists() => {
            Outcome::ok("not present (no /sys/fs/selinux)").with_value(json!({"state": "absent"}))
        }
        Err(e) => Outcome::unknown(io_text(ENFORCE, &e)),
    }
}

/// `apparmor`: enabled, the profile, and the unprivileged-userns restriction.
pub fn apparmor(_: &Context) -> Outcome {
    const ENABLED: &str = "/sys/module/apparmor/parameters/enabled";
    const RESTRICT: &str = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns";
    let restrict = read(RESTRICT).ok().map(|t| t.trim().to_string());
    let restrict_note = restrict.as_deref().map_or_else(String::new, |r| {
        format!("; kernel.apparmor_restrict_unprivileged_userns = {r}")
    });
    match read(ENABLED) {
        Ok(t) => {
            let enabled = t.trim() == "Y";
            let profile = read("/proc/self/attr/apparmor/current")
                .map(|c| c.trim_end_matches(['\0', '\n']).to_string())
                .ok();
            Outcome::ok(format!(
                "{}{}{restrict_note}",
                if enabled { "enabled" } else { "built but disabled" },
                profile.as_deref().map_or_else(String::new, |p| format!("; profile {p}"))
            ))
            .with_value(json!({"enabled": enabled, "profile": profile, "restrict_unprivileged_userns": restrict}))
        }
        Err(e) if is_not_found(&e) && Path::new("/sys/module").is_dir() && !Path::new("/sys/module/apparmor").exists() => {
            Outcome::ok(format!("not present (no /sys/module/apparmor){restrict_note}"))
                .with_value(json!({"enabled": false, "profile": null, "restrict_unprivileged_userns": restrict}))
        }
        Err(e) => Outcome::unknown(io_text(ENABLED, &e)),
    }
}
