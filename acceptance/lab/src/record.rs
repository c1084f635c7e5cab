//! The lab's recorded results (`schemas/lab-results.json`,
//! `schemas/lab-kernels.json`) hold both facts and the environment they
//! were observed in. A later run on another machine compares the facts
//! only: outcomes, messages, the kernel series and its Landlock ABI, the
//! provider's answers. The environment — the exact kernel build, package
//! revisions, tool version strings, the host's CONFIG_LSM and active LSM
//! list — is recorded for the reader and never compared: two machines of
//! the same kind differ there (`6.18.44-fc-v669` vs `6.18.44-fc-v1252`)
//! while every rule-relevant fact is the same. Landlock being active is
//! still compared, as `landlock_abi` (`null` when it is not).

use std::path::Path;

use serde_json::Value as Json;

/// Keys (at any depth) that name the environment, not a fact.
pub const ENVIRONMENT_FIELDS: [&str; 9] = [
    "kernel_release",
    "release",
    "package",
    "package_version",
    "CONFIG_LSM",
    "active_lsms",
    "crun",
    "bwrap",
    "podman",
];

/// `v` without its environment fields.
pub fn facts(v: &Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.iter()
                .filter(|(k, _)| !ENVIRONMENT_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), facts(v)))
                .collect(),
        ),
        Json::Array(a) => Json::Array(a.iter().map(facts).collect()),
        other => other.clone(),
    }
}

/// Where the facts of `committed` and `observed` differ, as JSON paths
/// with both values (at most `limit` of them).
pub fn fact_differences(committed: &Json, observed: &Json, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    diff(&facts(committed), &facts(observed), "$", &mut out, limit);
    out
}

fn diff(a: &Json, b: &Json, path: &str, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit || a == b {
        return;
    }
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let (va, vb) = (
                    x.get(k.as_str()).unwrap_or(&Json::Null),
                    y.get(k.as_str()).unwrap_or(&Json::Null),
                );
                diff(va, vb, &format!("{path}.{k}"), out, limit);
            }
        }
        (Json::Array(x), Json::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff(va, vb, &format!("{path}[{i}]"), out, limit);
            }
        }
        _ => out.push(format!("{path}: recorded {a}, observed {b}")),
    }
}

/// Compare a run's results with the committed file at `path`, or write
/// them there when `UPDATE_LAB_RESULTS` is set. `Err` lists the facts
/// that changed and how to record them.
pub fn check_recorded(path: &Path, observed: &Json, update_command: &str) -> Result<(), String> {
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(observed).map_err(|e| e.to_string())?
    );
    if std::env::var_os("UPDATE_LAB_RESULTS").is_some() {
        return std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()));
    }
    let committed: Json = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Json::Null);
    let changed = fact_differences(&committed, observed, 20);
    if !changed.is_empty() {
        return Err(format!(
            "{} is not what the lab observed now ({} fact(s) differ, first shown):\n  {}\nrun `{update_command}` (diff it first: a changed result is a changed fact)",
            path.display(),
            changed.len(),
            changed.join("\n  ")
        ));
    }
    if committed != *observed {
        eprintln!(
            "note: {} was recorded in another environment (kernel build, tool versions, LSM list; not compared)",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn recorded() -> Json {
        json!({
            "kernel": "6.18",
            "kernel_release": "6.18.44-fc-v669",
            "crun": "crun version 1.8.1",
            "landlock_abi": 7,
            "runs": [{"sandbox": "bubblewrap", "works": true, "message": "bwrap: ok"}],
            "kernels": [{"series": "6.18", "source": {"release": "6.18.44-fc-v669",
                "config": {"CONFIG_LSM": "landlock,yama", "CONFIG_USER_NS": "y"}},
                "active_lsms": ["capability", "landlock"]}]
        })
    }

    #[test]
    fn another_build_of_the_same_kernel_is_the_same_facts() {
        let mut other = recorded();
        other["kernel_release"] = json!("6.18.44-fc-v1252");
        other["crun"] = json!("crun version 1.8.2");
        other["kernels"][0]["source"]["release"] = json!("6.18.44-fc-v1252");
        other["kernels"][0]["source"]["config"]["CONFIG_LSM"] = json!("yama,landlock,bpf");
        other["kernels"][0]["active_lsms"] = json!(["capability", "landlock", "bpf"]);
        assert_eq!(
            fact_differences(&recorded(), &other, 10),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_changed_outcome_abi_series_or_kernel_option_is_a_difference() {
        let cases: [(&str, Json); 4] = [
            ("/runs/0/works", json!(false)),
            ("/landlock_abi", Json::Null),
            ("/kernel", json!("6.12")),
            ("/kernels/0/source/config/CONFIG_USER_NS", json!("n")),
        ];
        for (pointer, value) in cases {
            let mut other = recorded();
            *other.pointer_mut(pointer).unwrap() = value;
            let d = fact_differences(&recorded(), &other, 10);
            assert_eq!(d.len(), 1, "{pointer}: {d:?}");
        }
        let mut other = recorded();
        other["runs"][0]["message"] = json!("bwrap: pivot_root: Operation not permitted");
        let d = fact_differences(&recorded(), &other, 10);
        assert_eq!(
            d,
            vec![
                "$.runs[0].message: recorded \"bwrap: ok\", observed \"bwrap: pivot_root: Operation not permitted\""
                    .to_string()
            ]
        );
    }
}
