//! [`Workload`]: the nested sandbox run inside the pod container, and the
//! command, environment and helper binaries each one needs.

/// A sandbox (or any command) run as the container's process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Workload {
    /// The Zuul blog's bubblewrap command, adapted to Debian: a new user,
    /// PID, IPC, UTS, cgroup and network namespace with its own /proc,
    /// running `ps afx`.
    Bubblewrap,
    /// Rootless podman (as the container's user) runs a local busybox image
    /// with vfs storage and `--network none`, using newuidmap/newgidmap
    /// copies with file capabilities (`cap_setuid=ep` / `cap_setgid=ep`,
    /// as Fedora and podman's images ship them) first in PATH.
    Podman,
    /// [`Workload::Podman`] with options (Debian's setuid-root helpers,
    /// extra `podman run` arguments).
    PodmanWith(PodmanOptions),
    /// Coder Boundary's nsjail jail, step by step: a non-root agent
    /// re-executes through `sudo -E env PATH=… setpriv … --ambient-caps
    /// +net_admin,+sys_admin`; the jail child gets a new network namespace
    /// (and a user namespace with a 1:1 map of its uid, setgroups deny,
    /// unless `no_user_namespace`) with ambient NET_ADMIN, a veth pair
    /// 192.168.100.1/.2 and Boundary's iptables rules; a proxy on the pod
    /// side must receive the jailed target's connection.
    Nsjail {
        /// Boundary's `--no-user-namespace`: a network namespace only.
        no_user_namespace: bool,
    },
    /// This crate's `landjail` binary: Landlock ABI 4 network rules as a
    /// hard requirement, then proof that they hold.
    Landjail,
    /// The repository's `nested-probe --sandbox <sandbox> --json`; the
    /// report is in [`Outcome::report`](crate::Outcome::report). PATH is
    /// the one [`Workload::Podman`] sees (the file-capability
    /// newuidmap/newgidmap first), so the two judge the same container.
    Probe {
        /// `nsjail`, `landjail`, `bubblewrap` or `podman`.
        sandbox: String,
    },
    /// [`Workload::Probe`] with PATH as the podman workload with
    /// `setuid_helpers` sees it (Debian's setuid-root helpers when true).
    ProbeWith {
        /// `nsjail`, `landjail`, `bubblewrap` or `podman`.
        sandbox: String,
        /// No file-capability helpers in PATH.
        setuid_helpers: bool,
        /// Extra `NAME=value` environment, e.g. `BOUNDARY_NO_USER_NAMESPACE=true`
        /// (the mode the sandbox is started in, as the pod sets it).
        env: Vec<String>,
    },
    /// Any shell command (`/bin/sh -c`).
    Shell(String),
}

/// Variations of the podman workload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodmanOptions {
    /// Use Debian's setuid-root newuidmap/newgidmap (/usr/bin) instead of
    /// the file-capability copies.
    pub setuid_helpers: bool,
    /// Extra `podman run` arguments, e.g. `--uts=host` (needed under the
    /// containers-common profile, which blocks sethostname without SYS_ADMIN).
    pub run_args: Vec<String>,
}

/// A helper binary a workload needs in /lab/bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Helper {
    /// This crate's `landjail`.
    Landjail,
    /// This crate's `lab-proxy`.
    Proxy,
    /// The repository's `nested-probe`.
    Probe,
}

/// The container process for a workload.
#[derive(Debug, Clone)]
pub struct Job {
    /// `process.args`.
    pub args: Vec<String>,
    /// Extra environment entries.
    pub env: Vec<String>,
    /// Helpers that must be in /lab/bin.
    pub helpers: Vec<Helper>,
}

/// The container's default PATH (containerd's).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where the probe's JSON report is written inside the container.
pub const PROBE_REPORT: &str = "/lab/out/probe.json";

impl Workload {
    /// A workload by the `node-lab` CLI's name for it: `bubblewrap`,
    /// `podman`, `podman-setuid`, `nsjail`, `nsjail-no-userns`, `landjail`,
    /// `probe:SANDBOX`, `probe-setuid:SANDBOX` or `shell:COMMAND`. `env`
    /// goes to the probe's environment (e.g. `BOUNDARY_NO_USER_NAMESPACE=true`).
    pub fn parse(name: &str, env: &[String]) -> Result<Workload, String> {
        Ok(match name {
            "bubblewrap" => Workload::Bubblewrap,
            "podman" => Workload::Podman,
            "podman-setuid" => Workload::PodmanWith(PodmanOptions {
                setuid_helpers: true,
                ..PodmanOptions::default()
            }),
            "nsjail" => Workload::Nsjail {
                no_user_namespace: false,
            },
            "nsjail-no-userns" => Workload::Nsjail {
                no_user_namespace: true,
            },
            "landjail" => Workload::Landjail,
            other => match other.split_once(':') {
                Some(("probe", s)) => Workload::ProbeWith {
                    sandbox: s.to_string(),
                    setuid_helpers: false,
                    env: env.to_vec(),
                },
                Some(("probe-setuid", s)) => Workload::ProbeWith {
                    sandbox: s.to_string(),
                    setuid_helpers: true,
                    env: env.to_vec(),
                },
                Some(("shell", c)) => Workload::Shell(c.to_string()),
                _ => return Err(format!("unknown workload `{other}`")),
            },
        })
    }

    /// The container process that runs this workload.
    pub fn job(&self) -> Job {
        let sh = |script: &str, args: &[&str]| {
            let mut v = vec!["/bin/sh".to_string(), format!("/lab/scripts/{script}")];
            v.extend(args.iter().map(|a| a.to_string()));
            v
        };
        let job = |args, env, helpers| Job { args, env, helpers };
        match self {
            Workload::Bubblewrap => job(sh("bubblewrap.sh", &[]), vec![], vec![]),
            Workload::Podman => Workload::PodmanWith(PodmanOptions::default()).job(),
            Workload::PodmanWith(o) => {
                let mut env = vec![format!("NODE_LAB_PODMAN_RUN_ARGS={}", o.run_args.join(" "))];
                if !o.setuid_helpers {
                    env.push("NODE_LAB_FCAPS=/lab/fcaps".into());
                }
                job(sh("podman.sh", &[]), env, vec![])
            }
            Workload::Nsjail { no_user_namespace } => {
                let mode = if *no_user_namespace {
                    "no-userns"
                } else {
                    "userns"
                };
                // Executed directly: sudo/setpriv re-exec it by its path.
                job(
                    vec!["/lab/scripts/nsjail.sh".into(), mode.into()],
                    vec![],
                    vec![Helper::Proxy],
                )
            }
            Workload::Landjail => job(
                vec!["/lab/bin/landjail".into()],
                vec![],
                vec![Helper::Landjail],
            ),
            Workload::Probe { sandbox } => Workload::ProbeWith {
                sandbox: sandbox.clone(),
                setuid_helpers: false,
                env: Vec::new(),
            }
            .job(),
            Workload::ProbeWith {
                sandbox,
                setuid_helpers,
                env,
            } => job(
                vec![
                    "/bin/sh".into(),
                    "-c".into(),
                    format!(
                        "/lab/bin/nested-probe --sandbox \"$1\" --json > {PROBE_REPORT}; rc=$?; \
                         echo \"nested-probe --sandbox $1: exit $rc\"; exit $rc"
                    ),
                    "probe".into(),
                    sandbox.clone(),
                ],
                if *setuid_helpers {
                    env.clone()
                } else {
                    std::iter::once(format!("PATH=/lab/fcaps:{DEFAULT_PATH}"))
                        .chain(env.iter().cloned())
                        .collect()
                },
                vec![Helper::Probe],
            ),
            Workload::Shell(cmd) => job(
                vec!["/bin/sh".into(), "-c".into(), cmd.clone()],
                vec![],
                vec![],
            ),
        }
    }
}
