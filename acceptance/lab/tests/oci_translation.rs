//! The pod → OCI translation, checked field by field in the produced
//! config.json. Needs no root; the RuntimeDefault cases read the profile
//! files `acceptance/lab/setup.sh` installs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use node_lab::{AppArmor, Mount, Node, Pod, RuntimeDefaults, Seccomp, oci_config};
use serde_json::{Value, json};

fn args() -> Vec<String> {
    vec!["/bin/true".into()]
}

fn config(pod: &Pod, node: &Node) -> Value {
    oci_config(pod, node, &args(), &[]).unwrap()
}

fn containerd() -> Node {
    Node::new(RuntimeDefaults::containerd().unwrap())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn mount<'a>(c: &'a Value, destination: &str) -> &'a Value {
    c["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["destination"] == destination)
        .unwrap()
}

fn syscall_names(c: &Value) -> Vec<String> {
    c["linux"]["seccomp"]["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| strings(&r["names"]))
        .collect()
}

#[test]
fn provider_outputs_become_the_crun_config() {
    let pod = Pod::from_provider_outputs(
        r#"{"hostUsers":false}"#,
        "{}",
        r#"{"allowPrivilegeEscalation":false,"capabilities":{"add":["SETFCAP"],"drop":["ALL"]},
            "privileged":false,"procMount":"Unmasked","seccompProfile":{"type":"Unconfined"}}"#,
        1000,
    )
    .unwrap();
    let c = oci_config(
        &pod,
        &containerd(),
        &args(),
        &[Mount::bind_ro("/opt/x", "/x")],
    )
    .unwrap();
    let p = &c["process"];
    assert_eq!(p["user"], json!({"uid": 1000, "gid": 1000}));
    assert_eq!(p["args"], json!(["/bin/true"]));
    assert_eq!(p["noNewPrivileges"], json!(true));
    // Only bounding, effective, permitted: the CRI never fills inheritable or ambient.
    let caps = p["capabilities"].as_object().unwrap();
    assert_eq!(
        caps.keys().collect::<Vec<_>>(),
        ["bounding", "effective", "permitted"]
    );
    for set in caps.values() {
        assert_eq!(set, &json!(["CAP_SETFCAP"]));
    }
    assert!(p.get("rlimits").is_none());
    let linux = &c["linux"];
    assert!(linux.get("maskedPaths").is_none() && linux.get("readonlyPaths").is_none());
    assert!(linux.get("seccomp").is_none());
    let ns: Vec<&str> = linux["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        ns,
        ["pid", "network", "ipc", "uts", "mount", "cgroup", "user"]
    );
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    assert_eq!(linux["uidMappings"], map);
    assert_eq!(linux["gidMappings"], map);
    let usr = mount(&c, "/usr");
    assert_eq!(usr["options"], json!(["rbind", "ro", "idmap"]));
    assert_eq!(usr["uidMappings"], map);
    assert!(strings(&mount(&c, "/sys")["options"]).contains(&"ro".to_string()));
    assert!(strings(&mount(&c, "/sys/fs/cgroup")["options"]).contains(&"ro".to_string()));
    assert_eq!(mount(&c, "/x")["options"], json!(["rbind", "ro"]));
}

#[test]
fn kubernetes_defaults_on_containerd() {
    let c = config(&Pod::default(), &containerd());
    let p = &c["process"];
    assert_eq!(p["noNewPrivileges"], json!(false));
    let bounding = strings(&p["capabilities"]["bounding"]);
    assert_eq!(bounding.len(), 14);
    assert!(
        bounding.contains(&"CAP_SETFCAP".into()) && bounding.contains(&"CAP_AUDIT_WRITE".into())
    );
    let masked = strings(&c["linux"]["maskedPaths"]);
    assert!(masked.contains(&"/proc/kcore".into()) && masked.contains(&"/sys/firmware".into()));
    assert!(strings(&c["linux"]["readonlyPaths"]).contains(&"/proc/sys".into()));
    assert!(c["linux"].get("uidMappings").is_none());
    assert!(
        c["linux"].get("seccomp").is_none(),
        "Unset + seccompDefault false = unconfined"
    );
    assert_eq!(mount(&c, "/usr")["options"], json!(["rbind", "ro"]));
}

#[test]
fn capability_arithmetic_and_cri_o_defaults() {
    let node = Node::new(RuntimeDefaults::cri_o().unwrap());
    let pod = Pod {
        capabilities_add: vec!["NET_ADMIN".into()],
        capabilities_drop: vec!["KILL".into()],
        ..Pod::default()
    };
    let bounding = strings(&config(&pod, &node)["process"]["capabilities"]["bounding"]);
    assert_eq!(bounding.len(), 9);
    assert!(bounding.contains(&"CAP_NET_ADMIN".into()));
    assert!(!bounding.contains(&"CAP_KILL".into()) && !bounding.contains(&"CAP_SETFCAP".into()));
}

#[test]
fn outer_user_namespace_drops_the_idmap_and_devices_are_created() {
    let mut node = containerd();
    node.max_user_namespaces = Some(0);
    let pod = Pod {
        host_users: false,
        ids_per_pod: 131072,
        devices: vec!["/dev/null".into()],
        ..Pod::default()
    };
    let c = config(&pod, &node);
    assert_eq!(mount(&c, "/usr")["options"], json!(["rbind", "ro"]));
    assert_eq!(c["linux"]["uidMappings"][0]["size"], json!(131072));
    assert_eq!(
        c["linux"]["devices"],
        json!([{"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0}])
    );
    let rules = c["linux"]["resources"]["devices"].as_array().unwrap();
    assert_eq!(rules[0], json!({"allow": false, "access": "rwm"}));
    assert_eq!(
        rules[1],
        json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"})
    );
}

#[test]
fn privileged_is_refused() {
    let pod = Pod {
        privileged: true,
        ..Pod::default()
    };
    let e = oci_config(&pod, &containerd(), &args(), &[]).unwrap_err();
    assert!(e.to_string().contains("privileged"), "{e}");
}

#[test]
fn runtime_default_is_resolved_against_the_bounding_set() {
    let mut pod = Pod {
        seccomp: Seccomp::RuntimeDefault,
        ..Pod::default()
    };
    let c = config(&pod, &containerd());
    let s = &c["linux"]["seccomp"];
    assert_eq!(s["defaultAction"], "SCMP_ACT_ERRNO");
    if std::env::consts::ARCH == "x86_64" {
        assert_eq!(
            s["architectures"],
            json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        );
    }
    let names = syscall_names(&c);
    for n in [
        "pkey_alloc",
        "pkey_free",
        "pkey_mprotect",
        "landlock_create_ruleset",
    ] {
        assert!(names.contains(&n.to_string()), "{n} missing");
    }
    for n in ["unshare", "mount", "setns", "pivot_root"] {
        assert!(
            !names.contains(&n.to_string()),
            "{n} allowed without SYS_ADMIN"
        );
    }
    pod.capabilities_add = vec!["SYS_ADMIN".into()];
    let names = syscall_names(&config(&pod, &containerd()));
    assert!(names.contains(&"unshare".into()) && names.contains(&"mount".into()));
    assert!(
        !names.contains(&"pivot_root".into()),
        "RuntimeDefault never allows pivot_root"
    );

    // Unset means RuntimeDefault when the kubelet's seccompDefault is on.
    let mut node = containerd();
    node.seccomp_default = true;
    assert!(
        config(&Pod::default(), &node)["linux"]
            .get("seccomp")
            .is_some()
    );

    // CRI-O's RuntimeDefault: containers-common's profile (ENOSYS default, pivot_root allowed).
    let crio = config(
        &Pod {
            seccomp: Seccomp::RuntimeDefault,
            ..Pod::default()
        },
        &Node::new(RuntimeDefaults::cri_o().unwrap()),
    );
    assert_eq!(crio["linux"]["seccomp"]["defaultErrnoRet"], json!(38));
    assert!(syscall_names(&crio).contains(&"pivot_root".into()));
}

#[test]
fn the_token_volume_is_idmapped_only_in_a_pod_user_namespace() {
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let userns = Pod {
        host_users: false,
        service_account_token: true,
        ..Pod::default()
    };
    let c = config(&userns, &containerd());
    let token = mount(&c, node_lab::SERVICE_ACCOUNT_DIR);
    assert_eq!(token["type"], "bind");
    assert_eq!(token["source"], node_lab::KUBELET_TOKEN_DIR);
    assert_eq!(strings(&token["options"]), ["rbind", "ro", "idmap"]);
    assert_eq!(token["uidMappings"], map);
    assert_eq!(token["gidMappings"], map);

    let host = Pod {
        service_account_token: true,
        ..Pod::default()
    };
    let c = config(&host, &containerd());
    let token = mount(&c, node_lab::SERVICE_ACCOUNT_DIR);
    assert_eq!(strings(&token["options"]), ["rbind", "ro"]);
    assert!(token.get("uidMappings").is_none());

    let none = config(&Pod::default(), &containerd());
    assert!(
        !none["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["destination"] == node_lab::SERVICE_ACCOUNT_DIR)
    );
}

/// containerd's CRI `generateApparmorSpecOpts`: on a node with AppArmor a
/// pod without a profile (or RuntimeDefault) gets the default profile,
/// Unconfined none; without AppArmor only Unconfined or nothing is taken.
#[test]
fn apparmor_profiles_as_containerds_cri_applies_them() {
    let mut node = containerd();
    node.apparmor_default = Some("cri-containerd.apparmor.d".into());
    let mut pod = Pod::default();
    assert_eq!(
        config(&pod, &node)["process"]["apparmorProfile"],
        "cri-containerd.apparmor.d"
    );
    pod.app_armor = AppArmor::RuntimeDefault;
    assert_eq!(
        config(&pod, &node)["process"]["apparmorProfile"],
        "cri-containerd.apparmor.d"
    );
    pod.app_armor = AppArmor::Unconfined;
    assert!(
        config(&pod, &node)["process"]
            .get("apparmorProfile")
            .is_none()
    );
    let plain = containerd();
    assert!(
        config(&pod, &plain)["process"]
            .get("apparmorProfile")
            .is_none()
    );
    pod.app_armor = AppArmor::RuntimeDefault;
    let e = oci_config(&pod, &plain, &args(), &[]).unwrap_err();
    assert!(e.to_string().contains("apparmor is not supported"), "{e}");
}
