//! `schemas/decision-matrix.json` is the engine's own answer for every cell
//! the "Choosing a sandbox" guide shows (`scripts/docgen.py` renders it and
//! decides nothing itself). After a rule or data change:
//! `UPDATE_DECISION_MATRIX=1 cargo test -p terraform-provider-nested --test decision_matrix`
//! and `make docs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use nested_provider::capability::CapabilityData;
use nested_provider::capability::engine::today;
use nested_provider::capability::matrix::matrix;

#[test]
fn the_committed_decision_matrix_is_the_engines() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/decision-matrix.json");
    let fresh = matrix(CapabilityData::embedded().unwrap(), today()).unwrap();
    let text = format!("{}\n", serde_json::to_string_pretty(&fresh).unwrap());
    if std::env::var_os("UPDATE_DECISION_MATRIX").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "schemas/decision-matrix.json is stale: run UPDATE_DECISION_MATRIX=1 cargo test -p terraform-provider-nested --test decision_matrix, then make docs"
    );
}
