//! Shared pieces of the `nested_nodegroup` acceptance tests: the provider
//! block pointed at moto, a node group resource, and what moto holds.
//! Test helpers: they panic with what went wrong, as test code does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{Moto, REQUIRED_PROVIDERS, Terraform, Workspace};

/// The provider block pointed at `endpoint` (moto or a proxy in front of
/// it), default retries, and `body`.
pub fn config(endpoint: &str, body: &str) -> String {
    config_with(endpoint, "default_tags = { team = \"platform\" }", body)
}

/// The provider block pointed at `endpoint` with `settings` (e.g.
/// `max_retries = 1`), and `body`.
pub fn config_with(endpoint: &str, settings: &str, body: &str) -> String {
    format!(
        r#"
{REQUIRED_PROVIDERS}
provider "nested" {{
  region      = "us-east-1"
  endpoints = {{
    eks = "{endpoint}"
    ec2 = "{endpoint}"
    ssm = "{endpoint}"
    sts = "{endpoint}"
  }}
  {settings}
}}
{body}
"#
    )
}

/// One `nested_nodegroup "agents"` (Bottlerocket, nsjail) with `extra`
/// attributes, and an `ng` output of it.
pub fn nodegroup(extra: &str) -> String {
    format!(
        r#"
resource "nested_nodegroup" "agents" {{
  cluster_name       = "prod"
  name               = "agents"
  node_role_arn      = "arn:aws:iam::123456789012:role/nodes"
  subnet_ids         = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
  sandbox            = "nsjail"
  ami_family         = "bottlerocket"
  instance_types     = ["m6i.large"]
{extra}
}}

output "ng" {{ value = nested_nodegroup.agents }}
"#
    )
}

/// `n` node groups from one resource with `count`, named `agents-0` …
/// (no `ng` output: it would be a list).
pub fn counted(n: usize, extra: &str) -> String {
    count_of(n, extra).replace(
        "name               = \"agents\"",
        "name               = \"agents-${count.index}\"",
    )
}

/// Like [`counted`], but every instance has the same name (a configuration
/// the provider must refuse).
pub fn count_of(n: usize, extra: &str) -> String {
    nodegroup(extra)
        .replace(
            "resource \"nested_nodegroup\" \"agents\" {",
            &format!("resource \"nested_nodegroup\" \"agents\" {{\n  count = {n}"),
        )
        .replace("output \"ng\" { value = nested_nodegroup.agents }", "")
}

/// The scaling and labels most tests create node groups with.
pub const DEFAULT_EXTRA: &str = r#"
  scaling = { min_size = 1, max_size = 3, desired_size = 2 }
  labels  = { "workload" = "agents" }
"#;

/// A workspace for `body` against `moto`, with test credentials.
pub fn workspace(tf: &Terraform, moto: &Moto, body: &str) -> Workspace {
    let mut ws = Workspace::new(tf, &config(&moto.endpoint(), body)).unwrap();
    ws.env("AWS_ACCESS_KEY_ID", "testing");
    ws.env("AWS_SECRET_ACCESS_KEY", "testing");
    ws.env("AWS_EC2_METADATA_DISABLED", "true");
    ws
}

/// Node groups in cluster `prod` and launch templates, as moto holds them.
pub fn counts(moto: &Moto) -> (usize, usize) {
    moto.resource_counts("prod").unwrap()
}

/// `terraform plan -detailed-exitcode` says: no changes.
pub fn plan_is_empty(ws: &Workspace) {
    let r = ws
        .run(&["plan", "-detailed-exitcode", "-no-color"])
        .unwrap();
    assert_eq!(r.code, 0, "plan not empty:\n{}", r.text());
}

/// The launch template node group `name` (cluster `prod`) runs: its ID and
/// version, as EKS reports them.
pub fn template_of(moto: &Moto, name: &str) -> (String, String) {
    let out = moto
        .boto3(&format!(
            "lt = eks.describe_nodegroup(clusterName='prod', nodegroupName='{name}')['nodegroup']['launchTemplate']\nprint(lt['id'], lt['version'])"
        ))
        .unwrap();
    let mut parts = out.split_whitespace().map(String::from);
    (parts.next().unwrap(), parts.next().unwrap())
}

/// Whether EC2 (moto) still has launch template `id`.
pub fn template_exists(moto: &Moto, id: &str) -> bool {
    moto.boto3(&format!(
        "print(any(t['LaunchTemplateId'] == '{id}' for t in ec2.describe_launch_templates(MaxResults=200)['LaunchTemplates']))"
    ))
    .unwrap()
    .trim()
        == "True"
}

/// The provider processes Terraform process `parent` started.
pub fn provider_pids(parent: u32) -> Vec<u32> {
    let out = std::process::Command::new("pgrep")
        .args(["-P", &parent.to_string(), "-f", "terraform-provider-nested"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Whether process `pid` is still running (not a zombie).
pub fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// `acceptance/tools/fault_proxy.py` in front of moto: answers `rate` of
/// calls with 429/500 itself and delays every forwarded call by `delay_ms`.
/// Stopped on drop, so a failing test leaves no process behind.
pub struct FaultProxy {
    pub port: u16,
    child: std::process::Child,
}

impl FaultProxy {
    pub fn start(moto: &Moto, rate: f64, seed: u64, delay_ms: u64) -> FaultProxy {
        let port = crate::free_port().unwrap();
        let child = std::process::Command::new(crate::venv().unwrap().join("bin/python"))
            .arg(crate::repo_root().join("acceptance/tools/fault_proxy.py"))
            .args(["--port", &port.to_string(), "--upstream", &moto.endpoint()])
            .args([
                "--fault-rate",
                &rate.to_string(),
                "--seed",
                &seed.to_string(),
            ])
            .args(["--delay-ms", &delay_ms.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let proxy = FaultProxy { port, child };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while crate::http_get(port, "/fault-proxy/stats").is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "fault proxy did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        proxy
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the proxy counted (its JSON body).
    pub fn stats(&self) -> String {
        crate::http_get(self.port, "/fault-proxy/stats")
            .unwrap_or_default()
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or("")
            .to_string()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
