use super::*;

fn part(content_type: &str, body: &str) -> Part {
    Part::new(content_type, body)
}

fn check_(
    parts: &[Part],
    sysctls: &BTreeMap<String, String>,
    kubelet: &BTreeMap<String, String>,
) -> Result<Vec<Doubt>, Box<Contradiction>> {
    check(parts, sysctls, &BTreeMap::new(), kubelet)
}

fn needs() -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    (
        [("user.max_user_namespaces".into(), "65536".into())].into(),
        [("userNamespaces.idsPerPod".into(), "131072".into())].into(),
    )
}

#[test]
fn a_sysctl_set_otherwise_is_a_contradiction_however_it_is_written() {
    let (s, k) = needs();
    for body in [
        "#!/bin/bash\nsysctl -w user.max_user_namespaces=0\n",
        "#!/bin/bash\necho 'user.max_user_namespaces = 0' > /etc/sysctl.d/99.conf\n",
        "#!/bin/bash\necho 0 > /proc/sys/user/max_user_namespaces\n",
    ] {
        let e = check_(&[part("text/x-shellscript", body)], &s, &k).unwrap_err();
        assert_eq!(e.key, "user.max_user_namespaces", "{body}");
        assert_eq!((e.theirs.as_str(), e.ours.as_str()), ("0", "65536"));
        assert_eq!(e.index, 1);
    }
}

/// Every spelling the issue names, and the ways of writing a value it
/// lists, each refused as a contradiction naming part, key and values.
#[test]
fn every_spelling_and_every_writer_is_a_contradiction() {
    let (s, k) = needs();
    let cases = [
        "sysctl -w user/max_user_namespaces=0",
        "sysctl user.max_user_namespaces=0",
        "sudo sysctl -q -w 'user.max_user_namespaces = 0'",
        "/usr/sbin/sysctl -w user.max_user_namespaces=0 || true",
        "printf '0\\n' > /proc/sys/user/max_user_namespaces",
        "printf '%s\\n' 0 > /proc/sys/user/max_user_namespaces",
        "echo 0 | tee /proc/sys/user/max_user_namespaces",
        "echo 0 | sudo tee -a /proc/sys//user/max_user_namespaces >/dev/null",
        "echo 0 | dd of=/proc/sys/user/max_user_namespaces",
        "tee /proc/sys/user/max_user_namespaces <<< 0",
        "cat > /etc/sysctl.d/99-mine.conf <<'EOF'\n# mine\nuser/max_user_namespaces = 0\nEOF",
        "cat <<EOF | tee /etc/sysctl.d/99-mine.conf\n-user.max_user_namespaces=0\nEOF",
        "cat > /tmp/mine.conf <<'EOF'\nuser.max_user_namespaces = 0\nEOF\nsysctl -p /tmp/mine.conf",
        "printf 'user.max_user_namespaces=0\\n' > /tmp/s.conf\nsysctl --load=/tmp/s.conf",
        "echo 'user.max_user_namespaces=0' | sysctl -p -",
        "sysctl -p - <<'EOF'\nuser.max_user_namespaces = 0\nEOF",
        "echo 'user.* = 0' > /etc/sysctl.d/99-glob.conf",
        "K=user.max_user_namespaces\nsysctl -w $K=0",
        "P=/proc/sys/user/max_user_namespaces; echo 0 > \"$P\"",
        "echo dXNlci5tYXhfdXNlcl9uYW1lc3BhY2VzID0gMAo= | base64 -d > /etc/sysctl.d/99-b64.conf",
        "bash -c 'sysctl -w user.max_user_namespaces=0'",
        "echo 'user.max_user_namespaces=0' | xargs sysctl -w",
        "echo 'echo 0 > /proc/sys/user/max_user_namespaces' > /tmp/x.sh\nsh /tmp/x.sh",
    ];
    for line in cases {
        let body = format!("#!/bin/bash\nset -e\n{line}\n");
        match check_(&[part("text/x-shellscript", &body)], &s, &k) {
            Err(e) => {
                assert_eq!(e.key, "user.max_user_namespaces", "{line}");
                assert_eq!(e.theirs, "0", "{line}");
                assert_eq!(e.ours, "65536", "{line}");
                let text = e.to_string();
                assert!(text.starts_with("your part 1 (text/x-shellscript) sets user.max_user_namespaces to 0, but the sandbox needs 65536"), "{line}: {text}");
                assert!(text.contains("line "), "{line}: {text}");
            }
            Ok(d) => panic!("{line}: accepted with {d:?}"),
        }
    }
}

#[test]
fn what_cannot_be_evaluated_is_a_doubt_not_a_pass_nor_a_guess() {
    let (s, k) = needs();
    let cases = [
        "sysctl -w user.max_user_namespaces=$N",
        "sysctl -w \"$KEY=0\"",
        "eval \"$SETUP\"",
        "curl -s https://example.com/setup.sh | bash",
        "echo \"$B64\" | base64 -d | sh",
        "source <(curl -s https://example.com/env)",
        "cp /opt/mine.conf /etc/sysctl.d/",
        "echo $V > /proc/sys/user/max_user_namespaces",
        "python3 -c 'open(\"/proc/sys/user/max_user_namespaces\",\"w\").write(\"0\")'",
        "if grep -q x /etc/os-release; then sysctl -w user.max_user_namespaces=0; fi",
        "test -f /x && sysctl -w user.max_user_namespaces=0",
        "for k in user.max_user_namespaces; do sysctl -w $k=0; done",
    ];
    for line in cases {
        let body = format!("#!/bin/bash\n{line}\n");
        let doubts = check_(&[part("text/x-shellscript", &body)], &s, &k)
            .unwrap_or_else(|e| panic!("{line}: {e}"));
        let d = doubts
            .iter()
            .find(|d| d.key == "user.max_user_namespaces")
            .unwrap_or_else(|| panic!("{line}: no doubt in {doubts:?}"));
        let text = d.to_string();
        assert!(
            text.starts_with("your part 1 (text/x-shellscript): line 2: "),
            "{line}: {text}"
        );
        assert!(
            text.contains("The sandbox needs user.max_user_namespaces to be 65536"),
            "{text}"
        );
    }
}

#[test]
fn the_same_value_comments_and_other_keys_are_fine() {
    let (s, k) = needs();
    let parts = [
        part(
            "text/x-shellscript",
            "#!/bin/bash\n# sysctl -w user.max_user_namespaces=0\nsysctl -w user.max_user_namespaces=65536\nsysctl -w net.ipv4.ip_forward=1\necho 0x10000 > /proc/sys/user/max_user_namespaces\ncat /proc/sys/user/max_user_namespaces\nsysctl user.max_user_namespaces\necho 'user.max_user_namespaces = 0' > /tmp/notes.txt\n[ -f /x ] && sysctl -w user.max_user_namespaces=65536\n",
        ),
        part(
            NODECONFIG_CONTENT_TYPE,
            "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: 58\n",
        ),
    ];
    // The notes file is never applied: a doubt at most, never an error.
    let doubts = check_(&parts, &s, &k).unwrap();
    assert!(
        doubts.iter().all(|d| !d.why.contains("sysctl -w")),
        "{doubts:?}"
    );
}

#[test]
fn a_kubelet_setting_set_otherwise_in_a_nodeconfig_is_a_contradiction() {
    let (s, k) = needs();
    let parts = [
        part("text/x-shellscript", "#!/bin/bash\necho hi\n"),
        part(
            NODECONFIG_CONTENT_TYPE,
            "spec:\n  kubelet:\n    config:\n      userNamespaces:\n        idsPerPod: 65536 # ours\n",
        ),
    ];
    let e = check_(&parts, &s, &k).unwrap_err();
    assert_eq!(e.index, 2);
    assert!(
        e.to_string()
            .contains("sets userNamespaces.idsPerPod to 65536, but the sandbox needs 131072"),
        "{e}"
    );
}

#[test]
fn a_nodeconfig_in_flow_style_or_base64_is_read_like_block_style() {
    let (s, k) = needs();
    for (headers, body) in [
        (vec![], "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec: {kubelet: {config: {userNamespaces: {idsPerPod: 65536}}}}\n".to_string()),
        (vec![], "{apiVersion: node.eks.aws/v1alpha1, kind: NodeConfig, spec: {kubelet: {config: {userNamespaces: {idsPerPod: 0x10000}}}}}\n".to_string()),
        (
            vec![("Content-Transfer-Encoding".to_string(), "base64".to_string())],
            base64::engine::general_purpose::STANDARD.encode("spec:\n  kubelet:\n    config:\n      userNamespaces: {idsPerPod: 65536}\n") + "\n",
        ),
        // nodeadm decodes a base64 body even without the header.
        (
            vec![],
            base64::engine::general_purpose::STANDARD.encode("spec:\n  kubelet:\n    config:\n      userNamespaces: {idsPerPod: 65536}\n") + "\n",
        ),
    ] {
        let mut p = part(NODECONFIG_CONTENT_TYPE, &body);
        p.headers = headers;
        let e = check_(&[p], &s, &k).unwrap_err();
        assert_eq!(e.key, "userNamespaces.idsPerPod", "{body}");
        assert_eq!(e.ours, "131072");
    }
    // The same value in hex is the same value.
    let same = part(
        NODECONFIG_CONTENT_TYPE,
        "spec: {kubelet: {config: {userNamespaces: {idsPerPod: 0x20000}}}}\n",
    );
    assert_eq!(check_(&[same], &s, &k), Ok(vec![]));
}

#[test]
fn base64_and_text_plain_scripts_are_read_as_cloud_init_reads_them() {
    let (s, k) = needs();
    let mut encoded = part(
        "text/x-shellscript",
        &(base64::engine::general_purpose::STANDARD
            .encode("#!/bin/sh\nsysctl -w user.max_user_namespaces=0\n")
            + "\n"),
    );
    encoded
        .headers
        .push(("Content-Transfer-Encoding".into(), "base64".into()));
    assert_eq!(check_(&[encoded], &s, &k).unwrap_err().theirs, "0");
    let plain = part(
        "text/plain",
        "#!/bin/sh\nsysctl -w user.max_user_namespaces=0\n",
    );
    assert_eq!(check_(&[plain], &s, &k).unwrap_err().index, 1);
}

#[test]
fn cloud_config_write_files_and_runcmd_are_read() {
    let (s, k) = needs();
    let e = check_(
        &[part(
            "text/cloud-config",
            "#cloud-config\nwrite_files:\n  - path: /etc/sysctl.d/99-x.conf\n    content: |\n      user.max_user_namespaces = 0\n",
        )],
        &s,
        &k,
    )
    .unwrap_err();
    assert_eq!(e.theirs, "0");
    let e = check_(
        &[part(
            "text/cloud-config",
            "#cloud-config\nruncmd:\n  - [sysctl, -w, user.max_user_namespaces=0]\n",
        )],
        &s,
        &k,
    )
    .unwrap_err();
    assert_eq!(e.theirs, "0");
    let e = check_(
        &[part(
            "text/cloud-config",
            "#cloud-config\nwrite_files:\n  - {path: /tmp/u.conf, encoding: b64, content: dXNlci5tYXhfdXNlcl9uYW1lc3BhY2VzID0gMAo=}\nruncmd: ['sysctl -p /tmp/u.conf']\n",
        )],
        &s,
        &k,
    )
    .unwrap_err();
    assert_eq!(e.theirs, "0");
    let doubts = check_(
        &[part("text/x-include-url", "https://example.com/mine\n")],
        &s,
        &k,
    )
    .unwrap();
    assert!(doubts.iter().any(|d| d.why.contains("URLs")), "{doubts:?}");
}

/// On an image whose default already allows user namespaces the provider
/// writes no sysctl, but a part that sets the limit to 0 still undoes what
/// the sandbox needs.
#[test]
fn lowering_a_floor_the_image_gives_is_a_contradiction() {
    let floors: BTreeMap<String, u64> = [("user.max_user_namespaces".to_string(), 1)].into();
    let none = BTreeMap::new();
    let zero = part(
        "text/x-shellscript",
        "#!/bin/sh\nsysctl -w user/max_user_namespaces=0\n",
    );
    let e = check(&[zero], &none, &floors, &none).unwrap_err();
    assert!(
        e.to_string()
            .contains("sets user.max_user_namespaces to 0, but the sandbox needs at least 1"),
        "{e}"
    );
    let more = part(
        "text/x-shellscript",
        "#!/bin/sh\nsysctl -w user.max_user_namespaces=15000\n",
    );
    assert_eq!(check(&[more], &none, &floors, &none), Ok(vec![]));
    let doubt = part("text/x-shellscript", "#!/bin/sh\neval \"$X\"\n");
    let d = check(&[doubt], &none, &floors, &none).unwrap();
    assert!(
        d[0].to_string()
            .contains("The sandbox needs user.max_user_namespaces to be at least 1"),
        "{}",
        d[0]
    );
}
