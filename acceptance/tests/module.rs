//! examples/module: a module wrapping `nested_nodegroup`, tested with
//! `terraform test` and `mock_provider "nested"`. The mock still loads the
//! provider's schema (and validates configuration, and runs the provider's
//! functions) through the real binary, here via `dev_overrides`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use acceptance::{Workspace, repo_root, terraforms};

/// Copy the module's Terraform files, tests included, into `to`.
fn copy_module(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            std::fs::create_dir_all(to.join(&name)).unwrap();
            copy_module(&path, &to.join(&name));
        } else if name.to_string_lossy().ends_with(".tf")
            || name.to_string_lossy().ends_with(".tftest.hcl")
        {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

/// Number of `run` blocks in the module's test files.
fn run_blocks(tests: &Path) -> usize {
    std::fs::read_dir(tests)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tftest.hcl"))
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .filter(|l| l.starts_with("run \""))
                .count()
        })
        .sum()
}

#[test]
fn module_validates_and_its_terraform_tests_pass() {
    let module = repo_root().join("examples/module");
    let expected = run_blocks(&module.join("tests"));
    assert!(expected >= 4, "only {expected} run blocks");
    let mut tested = 0;
    for tf in terraforms().unwrap() {
        // Provider functions (used by the module) need Terraform 1.8.
        if !tf.at_least(1, 8) {
            continue;
        }
        let ws = Workspace::new(&tf, "").unwrap();
        std::fs::remove_file(ws.path().join("main.tf")).unwrap();
        copy_module(&module, ws.path());

        ws.must(&["validate", "-no-color"]).unwrap();
        let r = ws.must(&["test", "-no-color"]).unwrap();
        println!("terraform {} test:\n{}", tf.version_string(), r.stdout);
        assert!(
            r.stdout
                .contains(&format!("Success! {expected} passed, 0 failed.")),
            "{}",
            r.text()
        );
        tested += 1;
    }
    assert!(tested >= 1, "no Terraform ≥ 1.8 to test with");
}

/// A broken expectation fails `terraform test`: the assertions are live,
/// and the provider's own validation still runs under the mock.
#[test]
fn module_tests_fail_when_the_module_is_wrong() {
    let tf = &terraforms().unwrap()[0];
    let module = repo_root().join("examples/module");
    let ws = Workspace::new(tf, "").unwrap();
    std::fs::remove_file(ws.path().join("main.tf")).unwrap();
    copy_module(&module, ws.path());

    // The module loses its taint: the plan test's assertion must catch it.
    let main = std::fs::read_to_string(ws.path().join("main.tf")).unwrap();
    let broken = main.replace("var.dedicated ?", "false ?");
    assert_ne!(main, broken);
    ws.write("main.tf", &broken).unwrap();
    let r = ws.run(&["test", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stdout
            .contains("a dedicated pool is tainted for its sandbox")
            || r.stderr
                .contains("a dedicated pool is tainted for its sandbox"),
        "{}",
        r.text()
    );

    // A sandbox the provider does not know, past the module's own
    // validation: the real provider rejects it even though it is mocked.
    ws.write(
        "main.tf",
        &main.replace(
            "sandbox            = var.sandbox",
            "sandbox            = \"docker\"",
        ),
    )
    .unwrap();
    let r = ws.run(&["test", "-no-color"]).unwrap();
    assert_ne!(r.code, 0, "{}", r.text());
    let text = r.text().replace('\n', " ");
    assert!(
        text.contains("is not a valid value for `sandbox`"),
        "{text}"
    );
}
