//! Golden files: the rendered documents for each seed scenario, byte for
//! byte. After a deliberate change, regenerate with
//! `UPDATE_GOLDEN=1 cargo test -p terraform-provider-nested --test golden`
//! and review the diff. The acceptance suite re-reads every file here with
//! independent parsers (Python's tomllib, email and PyYAML).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use nested_provider::capability::{CapabilityData, Input, decide};
use nested_provider::family;
use nested_provider::render::{UserDataOptions, al2023, bottlerocket, openshift};

fn golden_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("tests/golden")
}

fn check(name: &str, actual: &str) -> Option<String> {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    (expected != actual).then(|| {
        format!("{name} differs from the golden file:\n--- golden\n{expected}\n--- now\n{actual}")
    })
}

fn eks(sandbox: &str, family: &str, k8s: &str) -> nested_provider::capability::Decision {
    let mut i = Input::new(sandbox, "eks");
    i.ami_family = Some(family.into());
    i.kubernetes_version = Some(k8s.parse().unwrap());
    // Podman with nested images that own ids above 64535 (ids_per_pod).
    i.ids_per_pod = (sandbox == "podman").then_some(131_072);
    let d = decide(CapabilityData::embedded().unwrap(), &i).unwrap();
    assert!(
        !d.has_errors(),
        "{sandbox}/{family}/{k8s}: {:?}",
        d.findings
    );
    d
}

const USER_TOML: &str = "# Platform team defaults (kept verbatim)\n[settings.kubernetes]\nmax-pods = 58 # ENI limit for m6i.large\n\n[settings.kernel.sysctl]\n\"vm.max_map_count\" = \"262144\"\n";

#[test]
fn rendered_documents_match_the_golden_files() {
    let data = CapabilityData::embedded().unwrap();
    let mut failures = Vec::new();
    let mut user_data = |name: &str, sandbox: &str, family: &str, k8s: &str, user: Option<&str>| {
        let d = eks(sandbox, family, k8s);
        let opts = UserDataOptions {
            user,
            custom_ami: None,
        };
        let text = family::user_data(data, &d, &opts)
            .unwrap()
            .text
            .unwrap_or_default();
        failures.extend(check(name, &text));
    };
    user_data(
        "coder-nsjail-bottlerocket.toml",
        "nsjail",
        "bottlerocket",
        "1.33",
        None,
    );
    user_data(
        "coder-nsjail-bottlerocket-merged.toml",
        "nsjail",
        "bottlerocket",
        "1.33",
        Some(USER_TOML),
    );
    user_data(
        "zuul-bubblewrap-bottlerocket.toml",
        "bubblewrap",
        "bottlerocket",
        "1.35",
        None,
    );
    user_data(
        "podman-bottlerocket.toml",
        "podman",
        "bottlerocket",
        "1.34",
        None,
    );
    user_data("podman-al2023.mime", "podman", "al2023", "1.34", None);
    user_data(
        "landjail-al2023-merged.mime",
        "landjail",
        "al2023",
        "1.33",
        Some("#!/bin/bash\necho 'user part stays first'\n"),
    );
    let nsjail_userns_off = {
        let mut i = Input::new("landjail", "eks");
        i.ami_family = Some("al2023".into());
        i.kubernetes_version = Some("1.33".parse().unwrap());
        i.user_namespaces = false;
        decide(data, &i).unwrap()
    };
    let text = family::user_data(data, &nsjail_userns_off, &UserDataOptions::default())
        .unwrap()
        .text
        .unwrap();
    failures.extend(check("landjail-al2023-userns-off.mime", &text));

    for (sandbox, version) in [
        ("podman", "4.19"),
        ("podman", "4.20"),
        ("bubblewrap", "4.18"),
    ] {
        let mut i = Input::new(sandbox, "openshift");
        i.openshift_version = Some(version.parse().unwrap());
        let d = decide(data, &i).unwrap();
        let p = openshift::profile(
            data,
            sandbox,
            version.parse().unwrap(),
            version == "4.20",
            &d,
        )
        .unwrap();
        let stem = format!("openshift-{sandbox}-{version}");
        if !p.feature_gate_manifest.is_empty() {
            failures.extend(check(
                &format!("{stem}-featuregate.yaml"),
                &p.feature_gate_manifest,
            ));
        }
        if !p.scc_manifest.is_empty() {
            failures.extend(check(&format!("{stem}-scc.yaml"), &p.scc_manifest));
        }
        if let Some(patch) = &p.checluster_patch {
            failures.extend(check(
                &format!("{stem}-checluster-patch.json"),
                &format!("{patch}\n"),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bottlerocket_output_is_never_mime_and_mime_output_parses_back() {
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => {
                assert!(!text.contains("MIME-Version"), "{}", path.display());
                bottlerocket::parse_user(&text).unwrap();
            }
            Some("mime") => {
                let parts = al2023::parse(&text).unwrap();
                assert!(!parts.is_empty(), "{}", path.display());
            }
            _ => {}
        }
    }
}
