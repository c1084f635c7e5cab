//! The provider's kernel rules on the kernels EKS nodes run: Debian's cloud
//! kernels 6.1 (Bottlerocket and AL2023 up to Kubernetes 1.32) and 6.12
//! (1.33–1.35), each booted in a QEMU micro-VM (`node_lab::vm`), and this
//! machine's own kernel for comparison.
//!
//! For every sandbox (non-root agent) the engine decides for a node of
//! that kernel (`platform = "kubernetes"`, containerd 2.0, Kubernetes
//! 1.33). Its outputs run in the pod container — with the kubelet's
//! service-account token volume, a tmpfs that is idmapped for
//! `hostUsers: false` — and `nested-probe` runs in the same container. A
//! refused sandbox runs with the outputs for a node at its kernel floor,
//! and must fail for the reason the provider states: Landlock ABI < 4 for
//! landjail; the idmapped tmpfs for `hostUsers: false`, shown by the same
//! pod without the token volume, which must then run.
//!
//! On the 6.12 kernel, whose AppArmor is active, the AppArmor cells
//! (`kernels/apparmor.rs`) run the provider's `appArmorProfile: Unconfined`
//! answer under containerd's own default profile, taken from the containerd
//! binary the CRI lab runs.
//!
//! The results are `schemas/lab-kernels.json`; the test fails when that
//! file is not what it observed (`UPDATE_LAB_RESULTS=1` rewrites it). The
//! exact kernel releases and package versions are recorded but not
//! compared: a cold cache fetches Debian's newest build of each series.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "kernels/apparmor.rs"]
mod apparmor;
#[path = "kernels/cells.rs"]
mod cells;
mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use node_lab::apparmor::{CONTAINERD_DEFAULT_PROFILE, containerd_default_profile};
use node_lab::record::check_recorded;
use node_lab::vm::{Kernel, ScenarioResult, VmOptions, boot, config_value, run_scenario};
use node_lab::{Lab, LabVersions};
use serde_json::{Value as Json, json};

use cells::{Cell, cells_for, evaluate, expected_abi, inputs};
use common::probe_binary;

/// The Debian kernel series booted in VMs.
const SERIES: [&str; 2] = ["6.1", "6.12"];

/// Kernel config entries recorded per kernel.
const CONFIG_KEYS: [&str; 4] = [
    "CONFIG_LSM",
    "CONFIG_SECURITY_LANDLOCK",
    "CONFIG_USER_NS",
    "CONFIG_TMPFS",
];

/// What one kernel run gave: where it ran, its versions and the results.
struct KernelRun {
    series: String,
    /// What a proven cell is proven on.
    proven_on: String,
    source: Json,
    versions: LabVersions,
    results: BTreeMap<String, ScenarioResult>,
    /// The AppArmor profile loads the VM printed.
    apparmor_loads: Vec<String>,
}

fn by_name(results: Vec<ScenarioResult>) -> BTreeMap<String, ScenarioResult> {
    results.into_iter().map(|r| (r.name.clone(), r)).collect()
}

/// containerd's default AppArmor profile, from the CRI lab's containerd 2.x.
fn containerd_profile() -> String {
    let binary = node_lab::cri::containerd::cache_dir().join("containerd/2/containerd");
    containerd_default_profile(&binary).unwrap_or_else(|e| {
        panic!("{e} (acceptance/lab/cri/setup.sh fetches containerd into that cache)")
    })
}

/// Boots one Debian kernel with its cells' scenarios (and the AppArmor
/// cells' on [`apparmor::SERIES`]).
fn vm_run(series: &str, cells: &[Cell], apparmor_cells: &[apparmor::AppArmorCell]) -> KernelRun {
    let kernel = Kernel::cached(series).unwrap_or_else(|e| panic!("kernel {series}: {e}"));
    let mut scenarios: Vec<_> = cells.iter().flat_map(Cell::scenarios).collect();
    let mut options = VmOptions::default();
    if !apparmor_cells.is_empty() {
        scenarios.extend(
            apparmor_cells
                .iter()
                .flat_map(apparmor::AppArmorCell::scenarios),
        );
        options.apparmor_profiles = vec![(CONTAINERD_DEFAULT_PROFILE.into(), containerd_profile())];
    }
    let run =
        boot(&kernel, &scenarios, &options).unwrap_or_else(|e| panic!("kernel {series}: {e}"));
    for l in &run.apparmor_loads {
        eprintln!("kernel {series}: AppArmor profile loaded: {l}");
    }
    eprintln!(
        "kernel {series} ({}): images+job {:.1?}, boot {:.1?}, QEMU run {:.1?}",
        kernel.release, run.prepare, run.boot, run.run
    );
    for r in &run.results {
        eprintln!("  {:<28} ok={:<5} {} ms", r.name, r.ok, r.took_ms);
    }
    let mut config = serde_json::Map::new();
    for key in CONFIG_KEYS {
        config.insert(key.into(), json!(kernel.config(key).unwrap()));
    }
    KernelRun {
        series: series.into(),
        proven_on: format!("Debian's {series} cloud kernel (QEMU TCG micro-VM)"),
        source: json!({
            "kind": "debian-cloud-kernel-in-qemu-tcg",
            "package": kernel.package,
            "package_version": kernel.package_version,
            "release": kernel.release,
            "config": config,
        }),
        versions: run.versions,
        results: by_name(run.results),
        apparmor_loads: run.apparmor_loads,
    }
}

/// Runs the host kernel's cells with the lab directly.
fn host_run(lab: &Lab, series: &str, cells: &[Cell]) -> KernelRun {
    let started = Instant::now();
    let results: Vec<_> = cells
        .iter()
        .flat_map(Cell::scenarios)
        .map(|s| run_scenario(lab, &s))
        .collect();
    eprintln!("host kernel {series}: {:.1?}", started.elapsed());
    let versions = lab.versions();
    // The running kernel's config, when it exposes one.
    let text = std::process::Command::new("zcat")
        .arg("/proc/config.gz")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let config: serde_json::Map<String, Json> = CONFIG_KEYS
        .iter()
        .map(|k| (k.to_string(), json!(config_value(&text, k))))
        .collect();
    KernelRun {
        series: series.into(),
        proven_on: format!("the lab machine's own {series} kernel"),
        source: json!({ "kind": "this-machine", "release": versions.kernel, "config": config }),
        versions,
        results: by_name(results),
        apparmor_loads: Vec::new(),
    }
}

#[test]
fn kernel_rules_hold_on_the_kernels_eks_nodes_run() {
    let started = Instant::now();
    let lab = Lab::new()
        .unwrap_or_else(|e| panic!("{e}"))
        .with_probe(probe_binary());
    let host_series = lab.versions().kernel_series();
    let vm_plans: Vec<(&str, Vec<Cell>)> = SERIES.iter().map(|s| (*s, cells_for(s))).collect();
    let apparmor_cells = apparmor::cells();
    let host_cells = cells_for(&host_series);
    let mut runs: Vec<(KernelRun, &[Cell])> = std::thread::scope(|scope| {
        let vms: Vec<_> = vm_plans
            .iter()
            .map(|(s, c)| {
                let aa: &[apparmor::AppArmorCell] = if *s == apparmor::SERIES {
                    &apparmor_cells
                } else {
                    &[]
                };
                scope.spawn(move || (vm_run(s, c, aa), c.as_slice()))
            })
            .collect();
        let host = host_run(&lab, &host_series, &host_cells);
        let mut runs: Vec<_> = vms.into_iter().map(|h| h.join().unwrap()).collect();
        runs.push((host, host_cells.as_slice()));
        runs
    });

    let mut failures = Vec::new();
    let mut kernels = Vec::new();
    for (run, cells) in &mut runs {
        let abi = run.versions.landlock_abi;
        let expected = expected_abi(&run.series);
        if abi != expected {
            failures.push(format!(
                "kernel {}: Landlock ABI {abi:?}, the provider's data says {expected:?}",
                run.series
            ));
        }
        let mut records = Vec::new();
        for cell in cells.iter() {
            let (record, problems) = evaluate(cell, &run.results, &run.versions);
            failures.extend(
                problems
                    .into_iter()
                    .map(|p| format!("kernel {}: {p}", run.series)),
            );
            records.push(record);
        }
        let mut kernel = json!({
            "series": run.series,
            "proven_on": run.proven_on,
            "source": run.source,
            "landlock_abi": abi,
            "landlock_abi_expected": expected,
            "active_lsms": run.versions.lsms,
            "cells": records,
        });
        if run.series == apparmor::SERIES {
            if !run.versions.lsms.iter().any(|l| l == "apparmor") {
                failures.push(format!(
                    "kernel {}: AppArmor is not active ({:?}): the AppArmor cells cannot run",
                    run.series, run.versions.lsms
                ));
            }
            let mut records = Vec::new();
            for cell in &apparmor_cells {
                let (record, problems) = cell.evaluate(&run.results);
                failures.extend(
                    problems
                        .into_iter()
                        .map(|p| format!("kernel {}: {p}", run.series)),
                );
                records.push(record);
            }
            kernel["apparmor"] = json!({
                "inputs": apparmor::inputs(),
                // Name and exit status; the parser's own words are environment.
                "profile_loaded": run
                    .apparmor_loads
                    .iter()
                    .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
                    .collect::<Vec<_>>(),
                "cells": records,
            });
        }
        kernels.push(kernel);
    }
    for k in &kernels {
        for c in k["apparmor"]["cells"].as_array().into_iter().flatten() {
            eprintln!(
                "{:<5} apparmor {:<10} outputs={:<7} without-unconfined={:<7} probe_agrees={} proven={}",
                k["series"].as_str().unwrap(),
                c["sandbox"].as_str().unwrap(),
                c["observed"]["result"].as_str().unwrap(),
                c["without_unconfined"]["result"].as_str().unwrap(),
                c["probe_agrees"],
                c["proven"],
            );
        }
        for c in k["cells"].as_array().unwrap() {
            eprintln!(
                "{:<5} {:<10} provider={:<7} observed={:<7} probe_agrees={} proven={}",
                k["series"].as_str().unwrap(),
                c["sandbox"].as_str().unwrap(),
                c["provider"]["decision"].as_str().unwrap(),
                c["observed"]["result"].as_str().unwrap(),
                c["probe"]["agrees"],
                c["proven"],
            );
        }
    }
    eprintln!("kernels test: {:.1?}", started.elapsed());
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let results = json!({
        "about": "The provider's kernel rules run on Debian's cloud kernels (stand-ins for the EKS nodes' 6.1 and 6.12) in QEMU micro-VMs, and on the lab machine's own kernel; acceptance/lab/tests/kernels.rs",
        "inputs": inputs(),
        "lab": {
            "crun": runs[0].0.versions.crun,
            "bwrap": runs[0].0.versions.bwrap,
            "podman": runs[0].0.versions.podman,
        },
        "kernels": kernels,
    });
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/lab-kernels.json"
    ));
    if let Err(e) = check_recorded(
        &path,
        &results,
        "UPDATE_LAB_RESULTS=1 cargo nextest run -p node-lab --test kernels",
    ) {
        panic!("{e}");
    }
}
