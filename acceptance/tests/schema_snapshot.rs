//! `schemas/provider-schema.json` is the provider's schema as Terraform
//! reports it (`terraform providers schema -json`). A schema change must be
//! deliberate: regenerate with `make schema` and commit the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{PROVIDER_SOURCE, Workspace, repo_root, terraforms};

const CONFIG: &str = concat!("\n", acceptance::required_providers!(), r#""#);

#[test]
fn provider_schema_matches_the_committed_snapshot() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, CONFIG).unwrap();
    let r = ws.must(&["providers", "schema", "-json"]).unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let ours = &v["provider_schemas"][PROVIDER_SOURCE];
    assert!(ours.is_object(), "provider missing from:\n{}", r.stdout);
    let fresh = serde_json::to_string_pretty(ours).unwrap() + "\n";

    let path = repo_root().join("schemas/provider-schema.json");
    if std::env::var_os("UPDATE_SCHEMA_SNAPSHOT").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "the provider schema changed; if that is deliberate run `make schema` and commit \
         schemas/provider-schema.json.\n--- committed\n{committed}\n--- now\n{fresh}"
    );
}

#[test]
fn schema_is_the_same_for_every_terraform() {
    let mut seen = Vec::new();
    for tf in terraforms().unwrap() {
        let ws = Workspace::new(&tf, CONFIG).unwrap();
        let r = ws.must(&["providers", "schema", "-json"]).unwrap();
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        seen.push((
            tf.version_string(),
            v["provider_schemas"][PROVIDER_SOURCE].clone(),
        ));
    }
    for (version, schema) in &seen[1..] {
        // Older Terraform releases omit fields they do not know (e.g.
        // functions before 1.8); what both show must agree.
        let first = &seen[0].1;
        for key in ["provider", "data_source_schemas", "resource_schemas"] {
            if schema.get(key).is_some() {
                assert_eq!(
                    &schema[key], &first[key],
                    "{key} differs under Terraform {version}"
                );
            }
        }
    }
}
