//! Rendered documents never lose or gain a part, through real Terraform,
//! decoded by parsers from outside the project
//! (`acceptance/tools/check_roundtrip.py`: Python's email package, PyYAML,
//! tomllib) and by Terraform's own `yamldecode`:
//!
//! - Amazon Linux user data with hostile scripts and MIME documents of
//!   the user's: the boundary, part headers, RFC 2046 reading;
//! - contradictions of what the sandbox needs, in every spelling, refused
//!   at `bootstrap_extra_settings`, and what cannot be evaluated warned of;
//! - `nested_capability`'s `user_data` within EC2's 16 KB;
//! - `bottlerocket_settings()` never returns TOML the merge refuses;
//! - every YAML manifest decodes back to what was meant.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{Workspace, repo_root, terraforms, venv};
use serde_json::{Value, json};

const HEADER: &str = concat!(
    acceptance::required_providers!(),
    r#"
provider "nested" {
  offline = true
}
"#
);

const BOUNDARY: &str = "//NESTED-BOUNDARY//";

/// Run a checker of `acceptance/tools/check_roundtrip.py` on `cases`.
fn python_check(ws: &Workspace, kind: &str, cases: &Value) -> String {
    let python = venv().unwrap().join("bin/python");
    let file = ws.path().join(format!("{kind}-cases.json"));
    std::fs::write(&file, serde_json::to_string(cases).unwrap()).unwrap();
    let out = std::process::Command::new(python)
        .arg(repo_root().join("acceptance/tools/check_roundtrip.py"))
        .arg(kind)
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{kind}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// A part as Python's email package must read it back.
fn part(content_type: &str, headers: Value, content: &str) -> Value {
    json!({ "content_type": content_type, "headers": headers, "content": content })
}

/// What a reader sees of a body followed by a delimiter (RFC 2046 §5.1.1:
/// the line break before the delimiter is the delimiter's).
fn seen(body: &str) -> String {
    body.strip_suffix('\n').unwrap_or(body).to_string()
}

fn mime(boundary: &str, body: &str) -> String {
    format!("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\n\n{body}")
}

/// (case, bootstrap_extra_settings, the user's parts as Python must read them)
fn mime_cases() -> Vec<(&'static str, String, Vec<Value>)> {
    let ascii = "text/x-shellscript; charset=\"us-ascii\"";
    let injected = format!(
        "#!/bin/bash\necho start\n--{BOUNDARY}\nContent-Type: text/x-shellscript\n\n#!/bin/bash\necho injected\n--{BOUNDARY}--\necho end\n"
    );
    let inner = format!("#!/bin/sh\necho one\n--{BOUNDARY}\necho two\n");
    let separators = format!(
        "#!/bin/sh\necho a\u{2028}--{BOUNDARY}--\necho b\u{85}--{BOUNDARY}\necho c\r--{BOUNDARY}\n"
    );
    let b64_script = "#!/bin/sh\necho 'é ü'\n";
    vec![
        (
            "script_holds_our_boundary",
            injected.clone(),
            vec![part(ascii, json!({}), &seen(&injected))],
        ),
        (
            "their_mime_part_holds_our_boundary",
            mime(
                "theirs",
                &format!("--theirs\nContent-Type: text/x-shellscript\n\n{inner}--theirs--\n"),
            ),
            vec![part("text/x-shellscript", json!({}), &seen(&inner))],
        ),
        (
            "script_with_breaks_only_cloud_init_sees",
            separators.clone(),
            vec![part(
                "text/x-shellscript; charset=\"utf-8\"",
                json!({}),
                &seen(&separators),
            )],
        ),
        (
            "base64_part_keeps_its_headers",
            mime(
                "u",
                &format!(
                    "--u\nContent-Type: text/x-shellscript; charset=\"utf-8\"\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"mine.sh\"\n\n{}\n--u--\n",
                    base64_of(b64_script)
                ),
            ),
            vec![json!({
                "content_type": "text/x-shellscript; charset=\"utf-8\"",
                "headers": { "Content-Transfer-Encoding": "base64" },
                "filename": "mine.sh",
                "content": b64_script,
            })],
        ),
        (
            "quoted_printable_part",
            mime(
                "u",
                "--u\nContent-Type: text/x-shellscript\nContent-Transfer-Encoding: quoted-printable\n\n#!/bin/sh\necho a=3Db =\nc\n--u--\n",
            ),
            vec![part(
                "text/x-shellscript",
                json!({ "Content-Transfer-Encoding": "quoted-printable" }),
                "#!/bin/sh\necho a=b c",
            )],
        ),
        (
            "preamble_padding_and_epilogue",
            mime(
                "u",
                "not a part\n--u  \t\nContent-Type: text/cloud-config\nX-Merge-Type: list(append)+dict(recurse_array)\n\nruncmd: [echo one]\n--u\t\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho --u\n--u--   \nepilogue\n--u\nContent-Type: text/x-shellscript\n\necho not a part\n",
            ),
            vec![
                part(
                    "text/cloud-config",
                    json!({ "X-Merge-Type": "list(append)+dict(recurse_array)" }),
                    "runcmd: [echo one]",
                ),
                part("text/x-shellscript", json!({}), "#!/bin/sh\necho --u"),
            ],
        ),
    ]
}

fn base64_of(text: &str) -> String {
    let out = std::process::Command::new("base64")
        .arg("-w0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

const CAPABILITY_FOR_EACH: &str = r#"
locals {
  cases = jsondecode(file("${path.module}/cases.json"))
}

data "nested_capability" "x" {
  for_each                 = local.cases
  sandbox                  = "podman"
  platform                 = "eks"
  kubernetes_version       = "1.34"
  ami_family               = "al2023"
  ids_per_pod              = 131072
  bootstrap_extra_settings = each.value
}

output "user_data" {
  value = { for k, d in data.nested_capability.x : k => d.user_data }
}

output "parts" {
  value = { for k, d in data.nested_capability.x : k => d.cloudinit_parts }
}
"#;

#[test]
fn no_script_or_document_of_the_users_loses_or_gains_a_part() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, &format!("{HEADER}{CAPABILITY_FOR_EACH}")).unwrap();
    let cases = mime_cases();
    let inputs: serde_json::Map<String, Value> = cases
        .iter()
        .map(|(n, text, _)| ((*n).to_string(), json!(text)))
        .collect();
    ws.write("cases.json", &serde_json::to_string(&inputs).unwrap())
        .unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    let mut checks = serde_json::Map::new();
    for (name, _, expected) in &cases {
        let ud = out["user_data"]["value"][name].as_str().unwrap();
        checks.insert(
            (*name).to_string(),
            json!({ "user_data": ud, "expected": expected, "ids_per_pod": 131072 }),
        );
        // cloudinit_parts: the same parts, content decoded, as cloudinit_config takes them.
        let parts = out["parts"]["value"][name].as_array().unwrap();
        assert_eq!(parts.len(), expected.len() + 1, "{name}: {parts:?}");
        for (p, want) in parts.iter().zip(expected) {
            assert_eq!(p["content_type"], want["content_type"], "{name}");
            assert_eq!(
                seen(p["content"].as_str().unwrap()),
                seen(want["content"].as_str().unwrap()),
                "{name}"
            );
            if let Some(f) = want.get("filename") {
                assert_eq!(&p["filename"], f, "{name}");
            }
        }
        assert_eq!(
            parts.last().unwrap()["content_type"],
            "application/node.eks.aws"
        );
    }
    let text = python_check(&ws, "mime", &Value::Object(checks));
    assert_eq!(text.trim(), format!("checked {} mime cases", cases.len()));
    // The same inputs render the same bytes.
    let again = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(again.code, 0, "{}", again.text());
}

const ONE_CAPABILITY: &str = r#"
locals {
  case = jsondecode(file("${path.module}/case.json"))
}

data "nested_capability" "x" {
  sandbox                  = local.case.sandbox
  platform                 = "eks"
  kubernetes_version       = "1.34"
  ami_family               = local.case.family
  ids_per_pod              = local.case.sandbox == "podman" ? 131072 : null
  bootstrap_extra_settings = local.case.extra
}
"#;

/// Line of `bootstrap_extra_settings` in `HEADER` + `ONE_CAPABILITY`.
fn settings_line() -> usize {
    format!("{HEADER}{ONE_CAPABILITY}")
        .lines()
        .position(|l| l.trim_start().starts_with("bootstrap_extra_settings"))
        .unwrap()
        + 1
}

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn what_undoes_the_sandbox_is_refused_in_every_spelling() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, &format!("{HEADER}{ONE_CAPABILITY}")).unwrap();
    // AL2023 allows user namespaces by default: nsjail needs the limit to
    // stay at least 1 (the provider writes nothing there).
    let sysctl = "sets user.max_user_namespaces to 0, but the sandbox needs at least 1";
    let script = |line: &str| format!("#!/bin/bash\nset -euo pipefail\n{line}\n");
    let cases: Vec<(&str, &str, String, &str)> = vec![
        ("nsjail", "al2023", script("sysctl -w user.max_user_namespaces=0"), sysctl),
        ("nsjail", "al2023", script("sysctl -w user/max_user_namespaces=0"), sysctl),
        ("nsjail", "al2023", script("echo 0 > /proc/sys/user/max_user_namespaces"), sysctl),
        ("nsjail", "al2023", script("printf '%s\\n' 0 | sudo tee /proc/sys/user/max_user_namespaces"), sysctl),
        ("nsjail", "al2023", script("echo 0 | dd of=/proc/sys/user/max_user_namespaces status=none"), sysctl),
        ("nsjail", "al2023", script("cat > /etc/sysctl.d/99-mine.conf <<'EOF'\nuser/max_user_namespaces = 0\nEOF\nsysctl --system"), sysctl),
        ("nsjail", "al2023", script("cat > /tmp/s.conf <<EOF\nuser.max_user_namespaces=0\nEOF\nsysctl -p /tmp/s.conf"), sysctl),
        (
            "nsjail",
            "al2023",
            mime(
                "u",
                "--u\nContent-Type: text/cloud-config\n\n#cloud-config\nwrite_files:\n  - path: /etc/sysctl.d/99-x.conf\n    content: \"user.max_user_namespaces = 0\\n\"\n--u--\n",
            ),
            sysctl,
        ),
        (
            "nsjail",
            "al2023",
            mime(
                "u",
                &format!(
                    "--u\nContent-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\n{}\n--u--\n",
                    base64_of("#!/bin/sh\nsysctl -w user.max_user_namespaces=0\n")
                ),
            ),
            sysctl,
        ),
        (
            "podman",
            "al2023",
            "{apiVersion: node.eks.aws/v1alpha1, kind: NodeConfig, spec: {kubelet: {config: {userNamespaces: {idsPerPod: 65536}}}}}\n".to_string(),
            "sets userNamespaces.idsPerPod to 65536, but the sandbox needs 131072",
        ),
        (
            "podman",
            "al2023",
            mime(
                "u",
                &format!(
                    "--u\nContent-Type: application/node.eks.aws\nContent-Transfer-Encoding: base64\n\n{}\n--u--\n",
                    base64_of("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      userNamespaces: {idsPerPod: 0x10000}\n")
                ),
            ),
            "sets userNamespaces.idsPerPod to 0x10000, but the sandbox needs 131072",
        ),
        (
            "nsjail",
            "bottlerocket",
            "[settings.kernel.sysctl]\n\"user/max_user_namespaces\" = \"0\"\n".to_string(),
            "settings.kernel.sysctl.\"user/max_user_namespaces\" names the same sysctl as settings.kernel.sysctl.\"user.max_user_namespaces\" (/proc/sys/user/max_user_namespaces) and is set to \"0\" here, but the sandbox needs \"65536\"",
        ),
    ];
    let line = settings_line();
    for (sandbox, family, extra, says) in &cases {
        let case = json!({ "sandbox": sandbox, "family": family, "extra": extra });
        ws.write("case.json", &case.to_string()).unwrap();
        for cmd in ["validate", "plan"] {
            let r = ws.run(&[cmd, "-no-color"]).unwrap();
            assert!(!r.ok(), "{cmd} accepted {extra:?}\n{}", r.text());
            let e = flat(&r.stderr);
            assert!(
                e.contains("Bootstrap settings cannot be used"),
                "{cmd} {extra:?}: {e}"
            );
            assert!(
                e.contains(&flat(says)),
                "{cmd} {extra:?}: {says} not in {e}"
            );
            assert!(
                e.contains(&format!("on main.tf line {line}")),
                "{cmd} {extra:?}: not at line {line}: {e}"
            );
        }
    }
    // The AL cases name the part and the fix.
    let case = json!({ "sandbox": "nsjail", "family": "al2023", "extra": script("sysctl -w user/max_user_namespaces=0") });
    ws.write("case.json", &case.to_string()).unwrap();
    let e = flat(&ws.run(&["validate", "-no-color"]).unwrap().stderr);
    assert!(
        e.contains("your part 1 (text/x-shellscript) sets user.max_user_namespaces to 0, but the sandbox needs at least 1 (line 3: `sysctl -w user/max_user_namespaces=0`); remove that setting from your document"),
        "{e}"
    );
}

#[test]
fn what_cannot_be_evaluated_is_a_warning_at_the_attribute() {
    let tf = &terraforms().unwrap()[0];
    let cases = [
        (
            "computed_value",
            "#!/bin/bash\nsysctl -w user.max_user_namespaces=\"$N\"\n",
            "computed at run time",
        ),
        (
            "eval",
            "#!/bin/bash\neval \"$SETUP\"\n",
            "runs code built at run time",
        ),
        (
            "curl_pipe",
            "#!/bin/bash\ncurl -fsSL https://example.com/setup.sh | bash\n",
            "runs a script the provider cannot read",
        ),
        (
            "conditional",
            "#!/bin/bash\n[ -f /x ] && sysctl -w user.max_user_namespaces=0\n",
            "when a condition holds",
        ),
        (
            "include",
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"u\"\n\n--u\nContent-Type: text/x-include-url\n\nhttps://example.com/more\n--u--\n",
            "includes content from URLs",
        ),
    ];
    let inputs: serde_json::Map<String, Value> = cases
        .iter()
        .map(|(n, t, _)| ((*n).to_string(), json!(t)))
        .collect();
    let config = format!(
        "{HEADER}\nlocals {{\n  cases = jsondecode(file(\"${{path.module}}/cases.json\"))\n}}\n\ndata \"nested_capability\" \"x\" {{\n  for_each                 = local.cases\n  sandbox                  = \"nsjail\"\n  platform                 = \"eks\"\n  kubernetes_version       = \"1.34\"\n  ami_family               = \"al2023\"\n  bootstrap_extra_settings = each.value\n}}\n"
    );
    let ws = Workspace::new(tf, &config).unwrap();
    ws.write("cases.json", &serde_json::to_string(&inputs).unwrap())
        .unwrap();
    let r = ws.must(&["plan", "-json", "-no-color"]).unwrap();
    let diags: Vec<Value> = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "diagnostic")
        .map(|v| v["diagnostic"].clone())
        .collect();
    for (name, _, says) in cases {
        let address = format!("data.nested_capability.x[\"{name}\"]");
        let found = diags.iter().find(|d| {
            d["severity"] == "warning"
                && d["address"] == address.as_str()
                && d["summary"] == "Bootstrap settings could not be fully checked"
                && d["detail"].as_str().unwrap_or_default().contains(says)
        });
        let d = found.unwrap_or_else(|| panic!("{name}: no warning saying {says:?} in {diags:#?}"));
        let detail = d["detail"].as_str().unwrap();
        assert!(
            detail.contains("The sandbox needs user.max_user_namespaces to be at least 1"),
            "{detail}"
        );
        assert_eq!(
            d["snippet"]["code"].as_str().map(str::trim_start),
            Some("bootstrap_extra_settings = each.value"),
            "{name}: {d}"
        );
    }
}

#[test]
fn capability_user_data_obeys_the_16_kib_limit() {
    let tf = &terraforms().unwrap()[0];
    let ws = Workspace::new(tf, &format!("{HEADER}{ONE_CAPABILITY}")).unwrap();
    let line = settings_line();
    for (family, extra) in [
        ("al2023", format!("#!/bin/bash\n# {}\n", "x".repeat(16_300))),
        (
            "bottlerocket",
            format!(
                "[settings.kubernetes]\n# {}\nmax-pods = 58\n",
                "x".repeat(16_350)
            ),
        ),
    ] {
        let case = json!({ "sandbox": "landjail", "family": family, "extra": extra });
        ws.write("case.json", &case.to_string()).unwrap();
        for cmd in ["validate", "plan"] {
            let r = ws.run(&[cmd, "-no-color"]).unwrap();
            assert!(!r.ok(), "{family} {cmd} accepted\n{}", r.text());
            let e = flat(&r.stderr);
            assert!(e.contains("User data too large"), "{family}: {e}");
            assert!(e.contains("but EC2 allows 16384 bytes"), "{family}: {e}");
            assert!(
                e.contains(&format!("on main.tf line {line}")),
                "{family}: {e}"
            );
        }
    }
    // Just under the limit is fine.
    let case = json!({ "sandbox": "landjail", "family": "bottlerocket", "extra": format!("[settings.kubernetes]\n# {}\n", "x".repeat(15_000)) });
    ws.write("case.json", &case.to_string()).unwrap();
    ws.must(&["plan", "-no-color"]).unwrap();
}

#[test]
fn bottlerocket_settings_never_returns_toml_the_merge_refuses() {
    let tf = &terraforms().unwrap()[0];
    // Values the merge takes, rendered, merged back and read by tomllib.
    let values = json!({
        "single": "say 'hi'",
        "backslash": "a\\b",
        "newline": "one\ntwo",
        "tab": "a\tb",
        "del": "a\u{7f}b",
        "unicode": "é \u{2028} \u{1f600}",
    });
    let ws = Workspace::new(
        tf,
        &format!(
            r#"{HEADER}
locals {{
  values = jsondecode(file("${{path.module}}/values.json"))
  doc    = provider::nested::bottlerocket_settings({{ motd = local.values }})
}}

data "nested_capability" "br" {{
  sandbox                  = "landjail"
  platform                 = "eks"
  kubernetes_version       = "1.34"
  ami_family               = "bottlerocket"
  bootstrap_extra_settings = local.doc
}}

output "doc" {{ value = local.doc }}
output "merged" {{ value = provider::nested::merge_bottlerocket_toml(local.doc, local.doc) }}
output "user_data" {{ value = data.nested_capability.br.user_data }}
"#
        ),
    )
    .unwrap();
    ws.write("values.json", &values.to_string()).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    let expect: Vec<Value> = values
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| json!([["settings", "motd", k], v]))
        .collect();
    let mut cases = serde_json::Map::new();
    for o in ["doc", "merged", "user_data"] {
        cases.insert(
            o.into(),
            json!({ "text": out[o]["value"], "expect": expect }),
        );
    }
    let text = python_check(&ws, "toml", &Value::Object(cases));
    assert_eq!(text.trim(), "checked 3 toml cases");

    // A double quote inside a value: the function's own error, naming the
    // key (not a later refusal by the merge it feeds).
    let ws = Workspace::new(
        tf,
        &format!(
            r#"{HEADER}
output "doc" {{
  value = provider::nested::bottlerocket_settings({{ motd = {{ quoted = "say \"hi\"" }} }})
}}
"#
        ),
    )
    .unwrap();
    let r = ws.run(&["plan", "-no-color"]).unwrap();
    assert!(!r.ok(), "{}", r.text());
    let e = flat(&r.stderr);
    assert!(
        e.contains("Invalid function argument")
            && e.contains("while calling provider::nested::bottlerocket_settings(settings)"),
        "{e}"
    );
    assert!(e.contains("settings.motd.quoted"), "{e}");
    assert!(
        e.contains("quotes inside a string value are not accepted by EKS"),
        "{e}"
    );
}

/// Hostile keys and values: each one YAML 1.1 or 1.2 would type as
/// something else, and characters readers refuse raw.
fn hostile() -> Vec<&'static str> {
    vec![
        "on",
        "yes",
        "no",
        "y",
        "n",
        "off",
        "true",
        "null",
        "0x10",
        "0o10",
        "010",
        "1e3",
        "1_000",
        "2001-12-14",
        "Y",
        "NULL",
        "False",
    ]
}

fn hostile_values() -> Vec<&'static str> {
    let mut v = hostile();
    v.extend([
        "~",
        ".inf",
        ".nan",
        "12:30",
        "+1",
        "a: b",
        "- x",
        "#x",
        "&a",
        "*a",
        "!x",
        "x\ny",
        "\u{7f}",
        "\u{85}",
        "\u{9f}",
        "\u{2028}",
        "\u{2029}",
        "\u{feff}x",
        "\u{1b}[31m",
    ]);
    v
}

#[test]
fn every_rendered_manifest_decodes_back_to_what_was_meant() {
    let tf = &terraforms().unwrap()[0];
    let keys = hostile();
    let values = hostile_values();
    // Labels: keys Kubernetes accepts as label names, each with a hostile
    // value that is also a valid label value where possible.
    let labels: serde_json::Map<String, Value> =
        keys.iter().map(|k| ((*k).to_string(), json!(k))).collect();
    // Selector tags: hostile keys and values both, as far as AWS's tag
    // characters allow (letters, digits, spaces and _ . : / = + - @; the
    // provider refuses the rest at plan, and a selector term takes at
    // most 20 tags): YAML 1.1 and 1.2 would read many of them as other
    // types. Control characters reach the YAML through the script.
    let aws_tag = |t: &str| {
        t.chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
    };
    let all_tags: Vec<(String, Value)> = keys
        .iter()
        .zip(values.iter().cycle())
        .map(|(k, v)| (format!("t/{k}"), json!(v)))
        .chain(values.iter().map(|v| ((*v).to_string(), json!(v))))
        .filter(|(k, v)| {
            aws_tag(k) && aws_tag(v.as_str().unwrap_or_default()) && !k.is_empty() && v != ""
        })
        .collect();
    assert!(all_tags.len() > 20, "{all_tags:?}");
    let subnet_tags: serde_json::Map<String, Value> = all_tags.iter().take(20).cloned().collect();
    let group_tags: serde_json::Map<String, Value> =
        all_tags.iter().skip(20).take(20).cloned().collect();
    let script: String = std::iter::once("#!/bin/bash".to_string())
        .chain(values.iter().map(|v| format!("# {v}")))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let inputs = json!({
        "labels": labels,
        "subnet_tags": subnet_tags,
        "group_tags": group_tags,
        "script": script,
    });
    let config = format!(
        r#"{HEADER}
locals {{
  in = jsondecode(file("${{path.module}}/inputs.json"))
}}

data "nested_karpenter_pool" "k" {{
  sandbox                      = "podman"
  mode                         = "karpenter"
  ami_family                   = "al2023"
  cluster_name                 = "demo"
  kubernetes_version           = "1.34"
  karpenter_version            = "1.9.0"
  ids_per_pod                  = 131072
  role                         = "KarpenterNodeRole-demo"
  subnet_selector_tags         = local.in.subnet_tags
  security_group_selector_tags = local.in.group_tags
  labels                       = local.in.labels
  bootstrap_extra_settings     = local.in.script
}}

data "nested_karpenter_pool" "auto" {{
  sandbox                           = "podman"
  mode                              = "auto_mode"
  cluster_name                      = "demo"
  kubernetes_version                = "1.34"
  allow_privileged_sysctl_daemonset = true
  role                              = "AutoNodeRole-demo"
  subnet_selector_tags              = local.in.subnet_tags
  security_group_selector_tags      = local.in.group_tags
  labels                            = local.in.labels
}}

data "nested_capability" "c" {{
  sandbox            = "podman"
  platform           = "eks"
  kubernetes_version = "1.34"
  ami_family         = "al2023"
  ids_per_pod        = 131072
}}

data "nested_openshift_profile" "o" {{
  openshift_version = "4.19"
  sandbox           = "podman"
}}

locals {{
  texts = {{
    node_class      = data.nested_karpenter_pool.k.node_class_manifest
    node_pool       = data.nested_karpenter_pool.k.node_pool_manifest
    auto_node_class = data.nested_karpenter_pool.auto.node_class_manifest
    auto_node_pool  = data.nested_karpenter_pool.auto.node_pool_manifest
    daemonset       = data.nested_karpenter_pool.auto.sysctl_daemonset_manifest
    pool_probe      = data.nested_karpenter_pool.k.probe_manifest
    capability_probe = data.nested_capability.c.probe_manifest
    nodeadm_config  = data.nested_capability.c.nodeadm_config
    scc             = data.nested_openshift_profile.o.scc_manifest
    feature_gate    = data.nested_openshift_profile.o.feature_gate_manifest
  }}
}}

output "texts" {{ value = local.texts }}
output "decoded" {{
  value = {{
    for k, t in local.texts : k => [
      for d in split("\n---\n", trimprefix(t, "---\n")) : yamldecode(d) if trimspace(d) != ""
    ]
  }}
}}
output "k_user_data" {{ value = data.nested_karpenter_pool.k.user_data }}
"#
    );
    let ws = Workspace::new(tf, &config).unwrap();
    ws.write("inputs.json", &inputs.to_string()).unwrap();
    ws.must(&["apply", "-auto-approve", "-no-color"]).unwrap();
    let out = ws.outputs().unwrap();
    let texts = out["texts"]["value"].as_object().unwrap();
    let decoded = &out["decoded"]["value"];
    let user_data = out["k_user_data"]["value"].clone();
    assert!(
        user_data.as_str().unwrap().contains("# \u{2028}"),
        "{user_data}"
    );
    let each = |prefix: Value, map: &serde_json::Map<String, Value>| -> Vec<Value> {
        map.iter()
            .map(|(k, v)| {
                let mut path = prefix.as_array().unwrap().clone();
                path.push(json!(k));
                json!([path, v])
            })
            .collect()
    };
    let expect = |name: &str| -> Vec<Value> {
        let labels_at = json!([0, "spec", "template", "metadata", "labels"]);
        let subnets = json!([0, "spec", "subnetSelectorTerms", 0, "tags"]);
        let groups = json!([0, "spec", "securityGroupSelectorTerms", 0, "tags"]);
        match name {
            "node_pool" | "auto_node_pool" => each(labels_at, &labels),
            "node_class" => {
                let mut v = each(subnets, &subnet_tags);
                v.extend(each(groups, &group_tags));
                v.push(json!([[0, "spec", "userData"], user_data]));
                v
            }
            "auto_node_class" => {
                let mut v = each(subnets, &subnet_tags);
                v.extend(each(groups, &group_tags));
                v
            }
            _ => Vec::new(),
        }
    };
    let mut cases = serde_json::Map::new();
    for (name, text) in texts {
        if text.as_str().unwrap_or_default().is_empty() {
            continue;
        }
        cases.insert(
            name.clone(),
            json!({ "text": text, "yamldecode": decoded[name], "expect": expect(name) }),
        );
    }
    assert!(cases.len() >= 9, "{:?}", cases.keys().collect::<Vec<_>>());
    let n = cases.len();
    let text = python_check(&ws, "yaml", &Value::Object(cases));
    assert_eq!(text.trim(), format!("checked {n} yaml cases"));
}
