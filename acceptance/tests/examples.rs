//! Every runnable example under examples/ plans and applies as documented.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{Moto, Workspace, repo_root, terraforms};

#[test]
fn quickstart_applies_against_moto_and_replans_clean() {
    let moto = Moto::start().unwrap();
    let tf = &terraforms().unwrap()[0];
    let mut ws = Workspace::from_example(tf, &repo_root().join("examples/quickstart")).unwrap();
    ws.env("TF_VAR_aws_endpoint", &moto.endpoint());
    ws.env("AWS_ACCESS_KEY_ID", "testing");
    ws.env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.must(&["validate", "-no-color"]).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    assert_eq!(out["kernel_floors"]["value"]["landjail"], "6.7");
    assert_eq!(
        out["node_sysctls"]["value"]["nsjail"]["user.max_user_namespaces"],
        "65536"
    );
    assert_eq!(out["podman_floor_from_function"]["value"], "6.3");
    let again = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(again.code, 0, "{}", again.text());
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}

#[test]
fn fargate_rejected_fails_plan_with_the_landjail_recommendation() {
    for tf in terraforms().unwrap() {
        let ws =
            Workspace::from_example(&tf, &repo_root().join("examples/fargate-rejected")).unwrap();
        let r = ws.run(&["plan", "-no-color"]).unwrap();
        assert_ne!(r.code, 0, "{}", r.text());
        let e = r.stderr.replace('\n', " ");
        let e = e.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(e.contains("nsjail cannot run on EKS Fargate"), "{e}");
        assert!(e.contains("sandbox = \"landjail\" instead"), "{e}");
        assert!(e.contains("kernel ≥ 6.7"), "{e}");
        assert!(
            e.contains("Fargate does not publish its kernel version"),
            "{e}"
        );
        // The error points at the platform attribute (line 16).
        assert!(e.contains("main.tf line 16"), "{e}");
    }
}

/// Each seed scenario applies and gives the decision its README promises.
#[test]
fn seed_scenarios_apply_with_the_expected_decisions() {
    let tf = &terraforms().unwrap()[0];
    let apply = |name: &str| {
        let ws = Workspace::from_example(tf, &repo_root().join("examples").join(name)).unwrap();
        ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        let again = ws
            .run(&["plan", "-detailed-exitcode", "-no-color"])
            .unwrap();
        assert_eq!(
            again.code,
            0,
            "{name}: second plan not empty\n{}",
            again.text()
        );
        ws.outputs().unwrap()
    };

    let o = apply("coder-nsjail-bottlerocket");
    assert_eq!(o["ami_type"]["value"], "BOTTLEROCKET_x86_64");
    assert_eq!(
        o["node_sysctls"]["value"]["user.max_user_namespaces"],
        "65536"
    );
    let csc = &o["container_security_context"]["value"];
    // A non-root agent: Boundary's sudo + setpriv re-exec.
    assert_eq!(
        csc["capabilities"]["add"],
        serde_json::json!(["NET_ADMIN", "SETGID", "SETUID", "SYS_ADMIN"])
    );
    assert_eq!(csc["allowPrivilegeEscalation"], true);
    // SYS_ADMIN lets containerd's RuntimeDefault allow nsjail's clone: named explicitly.
    assert_eq!(csc["seccompProfile"]["type"], "RuntimeDefault", "{csc}");
    assert_eq!(o["pod_security_level"]["value"], "privileged");
    assert!(
        o["image_needs"]["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("sudo"))
    );
    // The probe Job, read back by a YAML parser: it runs the probe for nsjail
    // with the very security context above, on nodes labelled for nsjail.
    let job = acceptance::yaml_to_json(o["probe_manifest"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(job["kind"], "Job");
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][0]["securityContext"], *csc);
    assert_eq!(
        pod["containers"][0]["args"],
        serde_json::json!(["--sandbox", "nsjail", "--json"])
    );
    assert_eq!(pod["nodeSelector"]["sandbox.nested.dev/nsjail"], "true");
    assert_eq!(pod["restartPolicy"], "Never");

    let o = apply("coder-nsjail-amazon-linux");
    assert_eq!(o["ami_type"]["value"], "AL2023_x86_64_STANDARD");
    let csc = &o["container_security_context"]["value"];
    // A root agent maps uid 0 into its user namespace: SETFCAP.
    assert_eq!(
        csc["capabilities"]["add"],
        serde_json::json!(["NET_ADMIN", "SETFCAP"])
    );
    assert_eq!(csc["runAsUser"], 0);
    assert!(csc.get("seccompProfile").is_none());

    let o = apply("coder-landjail");
    assert_eq!(o["ami_family"]["value"], "al2023");
    assert_eq!(o["kernel"]["value"]["floor"], "6.7");
    assert_eq!(o["kernel"]["value"]["image"], "6.12");
    assert!(
        o["container_security_context"]["value"]["capabilities"]
            .get("add")
            .is_none()
    );

    let o = apply("zuul-bubblewrap");
    assert_eq!(o["pod_spec"]["value"]["hostUsers"], false);
    let csc = &o["container_security_context"]["value"];
    assert_eq!(csc["procMount"], "Unmasked");
    assert!(csc["capabilities"].get("add").is_none(), "{csc}");
    assert_eq!(csc["seccompProfile"]["type"], "Unconfined");
    // The Localhost alternative: the profile the pod names is the one the
    // Security Profiles Operator writes for the manifest (operator/<name>.json).
    let csc = &o["localhost_container_security_context"]["value"];
    assert_eq!(
        csc["seccompProfile"],
        serde_json::json!({"type": "Localhost", "localhostProfile": "operator/nested-bubblewrap.json"})
    );
    let spo =
        acceptance::yaml_to_json(o["seccomp_profile_manifest"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(spo["kind"], "SeccompProfile");
    assert_eq!(spo["metadata"]["name"], "nested-bubblewrap");
    assert_eq!(spo["spec"]["defaultAction"], "SCMP_ACT_ERRNO");
    // Without Unconfined the namespace needs only baseline.
    assert_eq!(o["localhost_pod_security_level"]["value"], "baseline");

    let o = apply("devspaces-podman-openshift");
    assert_eq!(o["pod_spec"]["value"]["hostUsers"], false);
    let csc = &o["container_security_context"]["value"];
    assert_eq!(
        csc["capabilities"]["add"],
        serde_json::json!(["SETGID", "SETUID"])
    );
    assert_eq!(csc["allowPrivilegeEscalation"], true);
    assert_eq!(o["kubelet_settings"]["value"], serde_json::json!({}));
    assert!(
        o["image_needs"]["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("user:1001:64535"))
    );
}

#[test]
fn examples_are_terraform_fmt_clean() {
    let tf = &terraforms().unwrap()[0];
    let out = std::process::Command::new(&tf.path)
        .args(["fmt", "-check", "-recursive", "-diff"])
        .arg(repo_root().join("examples"))
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "run `.venv/bin/terraform fmt -recursive examples`:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The registry examples (functions, data sources) apply as written.
#[test]
fn registry_examples_apply() {
    let tf = &terraforms().unwrap()[0];
    let mut applied = 0;
    for kind in ["functions", "data-sources"] {
        for entry in std::fs::read_dir(repo_root().join("examples").join(kind)).unwrap() {
            let dir = entry.unwrap().path();
            let ws = Workspace::from_example(tf, &dir).unwrap();
            for extra in std::fs::read_dir(&dir).unwrap() {
                let p = extra.unwrap().path();
                if p.extension().is_some_and(|e| e == "toml") {
                    std::fs::copy(&p, ws.path().join(p.file_name().unwrap())).unwrap();
                }
            }
            ws.write("providers.tf", acceptance::required_providers!())
                .unwrap();
            ws.must(&["apply", "-auto-approve", "-no-color"])
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            applied += 1;
        }
    }
    assert!(applied >= 5, "only {applied} examples found");
}

/// The registry examples of the provider page and of `nested_nodegroup`
/// (examples/provider, examples/resources/nested_nodegroup: the files the
/// generated docs embed) apply against moto, re-plan clean, and each import
/// example brings the node group back into state.
#[test]
fn registry_provider_and_resource_examples_apply_and_import() {
    let moto = Moto::start().unwrap();
    moto.create_cluster("prod", "1.33").unwrap();
    let tf = &terraforms().unwrap()[0];
    let resource_dir = repo_root().join("examples/resources/nested_nodegroup");
    let mut ws = Workspace::from_example(tf, &repo_root().join("examples/provider")).unwrap();
    std::fs::copy(
        resource_dir.join("resource.tf"),
        ws.path().join("resource.tf"),
    )
    .unwrap();
    // The examples configure the provider for real AWS; an override file
    // (merged into provider.tf's block by Terraform) points it at moto.
    let e = moto.endpoint();
    ws.write(
        "provider_override.tf",
        &format!(
            "provider \"nested\" {{\n  endpoints = {{\n    eks = \"{e}\"\n    ec2 = \"{e}\"\n    ssm = \"{e}\"\n    sts = \"{e}\"\n  }}\n}}\n"
        ),
    )
    .unwrap();
    ws.env("AWS_ACCESS_KEY_ID", "testing");
    ws.env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.env("AWS_EC2_METADATA_DISABLED", "true");

    ws.must(&["validate", "-no-color"]).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    let csc = &out["container_security_context"]["value"];
    assert_eq!(
        csc["capabilities"]["add"],
        serde_json::json!(["NET_ADMIN", "SETGID", "SETUID", "SYS_ADMIN"])
    );
    let again = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(again.code, 0, "{}", again.text());

    // import.sh: run its `terraform import` line as written.
    let script = std::fs::read_to_string(resource_dir.join("import.sh")).unwrap();
    let line = script
        .lines()
        .find(|l| l.starts_with("terraform import "))
        .expect("import.sh has a terraform import line");
    let mut args: Vec<&str> = line.split_whitespace().skip(1).collect();
    args.insert(1, "-no-color");
    ws.must(&["state", "rm", "nested_nodegroup.agents"])
        .unwrap();
    ws.must(&args).unwrap();
    // bootstrap_extra_settings is read back from the launch template's
    // user data: nothing to change but the owner (the resource instance
    // that created it was forgotten with `state rm`; the import's first
    // apply tags the node group as the new one's).
    let plan = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.text()
    );
    for unchanged in ["bootstrap_extra_settings", "user_data", "launch_template"] {
        assert!(!plan.stdout.contains(unchanged), "{}", plan.text());
    }
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let again = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(again.code, 0, "{}", again.text());

    // The import blocks, by ID and by identity.
    for file in ["import-by-string-id.tf", "import-by-identity.tf"] {
        ws.must(&["state", "rm", "nested_nodegroup.agents"])
            .unwrap();
        std::fs::copy(resource_dir.join(file), ws.path().join(file)).unwrap();
        let apply = ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
        assert!(
            apply.stdout.contains("1 imported, 0 added"),
            "{file}: {}",
            apply.text()
        );
        std::fs::remove_file(ws.path().join(file)).unwrap();
    }
    ws.must(&["destroy", "-auto-approve", "-no-color"]).unwrap();
}
