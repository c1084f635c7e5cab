use super::*;

fn needs() -> BTreeMap<String, String> {
    [("user.max_user_namespaces".to_string(), "65536".to_string())].into()
}

fn sets(script: &str) -> Vec<(String, usize)> {
    scan(script, &needs(), &[])
        .into_iter()
        .filter_map(|f| match f {
            Finding::Sets { value, line, .. } => Some((value, line)),
            Finding::Doubt { .. } => None,
        })
        .collect()
}

fn doubts(script: &str) -> Vec<String> {
    scan(script, &needs(), &["idsPerPod".to_string()])
        .into_iter()
        .filter_map(|f| match f {
            Finding::Doubt { why, .. } => Some(why),
            Finding::Sets { .. } => None,
        })
        .collect()
}

#[test]
fn lines_values_and_heredocs_are_followed() {
    assert_eq!(
        sets("#!/bin/sh\nset -e\n\nsysctl -w user.max_user_namespaces=0\n"),
        vec![("0".to_string(), 4)]
    );
    assert_eq!(
        sets("cat <<EOF > /etc/sysctl.d/99.conf\nuser.max_user_namespaces = 15000\nEOF\n"),
        vec![("15000".to_string(), 1)]
    );
    // A quoted delimiter keeps `$` literal; an unquoted one expands it.
    assert!(
        sets("cat > /etc/sysctl.d/9.conf <<EOF\nuser.max_user_namespaces = $N\nEOF\n").is_empty()
    );
    assert!(
        !doubts("cat > /etc/sysctl.d/9.conf <<EOF\nuser.max_user_namespaces = $N\nEOF\n")
            .is_empty()
    );
    // Files not applied are not settings.
    assert!(sets("echo 'user.max_user_namespaces=0' > /tmp/x\n").is_empty());
    assert!(sets("echo 'user.max_user_namespaces=0' > /etc/sysctl.d/README\n").is_empty());
}

#[test]
fn reads_and_unrelated_commands_are_quiet() {
    for script in [
        "cat /proc/sys/user/max_user_namespaces\n",
        "sysctl user.max_user_namespaces\n",
        "grep -q user.max_user_namespaces /etc/sysctl.conf && echo found\n",
        "yum install -y jq\nsystemctl restart kubelet\n",
        "echo 'idsPerPod is set by the provider'\n",
    ] {
        assert!(
            scan(script, &needs(), &["idsPerPod".to_string()]).is_empty(),
            "{script}"
        );
    }
}

#[test]
fn kubelet_names_written_somewhere_are_doubts() {
    let d = doubts("cat > /etc/eks/extra.yaml <<'EOF'\nuserNamespaces: {idsPerPod: 65536}\nEOF\n");
    assert!(d.iter().any(|w| w.contains("idsPerPod")), "{d:?}");
}

#[test]
fn arbitrary_text_never_panics() {
    for s in [
        "\"unterminated",
        "$(",
        "`",
        "<<",
        "cat <<",
        "a |",
        "${",
        "sysctl -p",
        "\\",
        "echo $'\\",
        "echo a\u{2028}b",
        "\u{85}",
        "x\r--b",
        "\u{a0}\u{3000}",
        "\u{feff}#!/bin/sh",
    ] {
        let _ = scan(s, &needs(), &["idsPerPod".to_string()]);
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_script_scans_without_panicking(s in "[ -~\\n\\t]{0,200}") {
            let _ = scan(&s, &needs(), &["idsPerPod".to_string()]);
        }

        #[test]
        fn any_text_at_all_scans_and_ends(s in any::<String>()) {
            let _ = scan(&s, &needs(), &["idsPerPod".to_string()]);
        }
    }
}
