//! Linux capability names and the CRI's capability arithmetic: how
//! `capabilities.add` / `capabilities.drop` of a container security context
//! turn the runtime's default set into the container's set.

// Every capability the kernel knows, in bit order (Kubernetes spelling,
// without `CAP_`): the probe's table, so the lab and the probe cannot
// disagree on a name. The running kernel may know fewer
// (`/proc/sys/kernel/cap_last_cap`); `all_capabilities` trims the list.
use nested_probe::procfs::CAPABILITY_NAMES as NAMES;

/// All capabilities of the running kernel as OCI names (`CAP_CHOWN` …),
/// what `add: [ALL]` and `privileged: true` give.
pub fn all_capabilities() -> Vec<String> {
    let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(NAMES.len() - 1);
    NAMES
        .iter()
        .take((last + 1).min(NAMES.len()))
        .map(|n| format!("CAP_{n}"))
        .collect()
}

/// The OCI name of a capability as the CRI writes it: upper-cased, with
/// `CAP_` prepended (Kubernetes names have no prefix; containerd and CRI-O
/// add it unconditionally, so `CAP_NET_ADMIN` in a pod spec is invalid).
pub fn oci_name(kubernetes_name: &str) -> String {
    format!("CAP_{}", kubernetes_name.to_ascii_uppercase())
}

/// The container's capability set, the way containerd's CRI
/// (`WithCapabilities`) and CRI-O compute it: `add: [ALL]` → every
/// capability; `drop: [ALL]` → none; then each named `add` is appended
/// (if absent) and each named `drop` removed. `defaults` are OCI names.
pub fn container_set(defaults: &[String], add: &[String], drop: &[String]) -> Vec<String> {
    let is_all = |c: &String| c.eq_ignore_ascii_case("ALL");
    let mut caps: Vec<String> = defaults.to_vec();
    if add.iter().any(is_all) {
        caps = all_capabilities();
    }
    if drop.iter().any(is_all) {
        caps.clear();
    }
    for c in add.iter().filter(|c| !is_all(c)) {
        let name = oci_name(c);
        if !caps.contains(&name) {
            caps.push(name);
        }
    }
    for c in drop.iter().filter(|c| !is_all(c)) {
        let name = oci_name(c);
        caps.retain(|x| *x != name);
    }
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn drop_all_then_add() {
        let d = s(&["CAP_CHOWN", "CAP_SETFCAP"]);
        assert_eq!(
            container_set(&d, &s(&["NET_ADMIN"]), &s(&["ALL"])),
            s(&["CAP_NET_ADMIN"])
        );
    }

    #[test]
    fn named_drop_and_add() {
        let d = s(&["CAP_CHOWN", "CAP_SETFCAP"]);
        assert_eq!(
            container_set(&d, &s(&["sys_admin"]), &s(&["SETFCAP"])),
            s(&["CAP_CHOWN", "CAP_SYS_ADMIN"])
        );
    }

    #[test]
    fn add_all_then_drop_one() {
        let all = container_set(&[], &s(&["ALL"]), &s(&["CHOWN"]));
        assert!(!all.contains(&"CAP_CHOWN".to_string()));
        assert!(all.contains(&"CAP_SYS_ADMIN".to_string()));
    }
}
