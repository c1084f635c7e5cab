//! node-lab: one lab scenario by hand, from the provider's JSON outputs.
//!
//! ```text
//! node-lab versions
//! node-lab config [OPTIONS]            print the config.json the CRI would write
//! node-lab run [OPTIONS] WORKLOAD      run WORKLOAD in that pod container (as root)
//!
//! OPTIONS  --runtime containerd|cri-o   (default containerd)
//!          --seccomp-default            kubelet seccompDefault: true
//!          --max-user-namespaces N      emulate the node sysctl
//!          --uid N                      the image's user (default 1000)
//!          --pod-spec JSON  --pod-security-context JSON  --container-security-context JSON
//!          --device PATH                a device the container gets (repeatable)
//!          --probe PATH                 nested-probe binary for probe:SANDBOX
//! WORKLOAD bubblewrap | podman | podman-setuid | nsjail | nsjail-no-userns |
//!          landjail | probe:SANDBOX | probe-setuid:SANDBOX | shell:COMMAND
//! ```
//! `run` prints the output and exits with the container's exit code.

use std::process::ExitCode;

use node_lab::{Lab, Node, Pod, PodmanOptions, RuntimeDefaults, Workload, oci_config};

#[derive(Default)]
struct Args {
    command: String,
    runtime: Option<String>,
    seccomp_default: bool,
    max_user_namespaces: Option<u64>,
    uid: Option<u32>,
    pod_spec: String,
    pod_context: String,
    container_context: String,
    devices: Vec<String>,
    probe: Option<String>,
    workload: Option<String>,
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("node-lab: {e}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<ExitCode, String> {
    let args = parse(std::env::args().skip(1).collect())?;
    if args.command == "versions" {
        println!("{:#?}", node_lab::host::versions());
        return Ok(ExitCode::SUCCESS);
    }
    let mut pod = Pod::from_provider_outputs(
        &args.pod_spec,
        &args.pod_context,
        &args.container_context,
        args.uid.unwrap_or(1000),
    )
    .map_err(|e| e.to_string())?;
    pod.devices = args.devices.clone();
    let runtime = match args.runtime.as_deref() {
        None | Some("containerd") => RuntimeDefaults::containerd(),
        Some("cri-o") | Some("crio") => RuntimeDefaults::cri_o(),
        Some(other) => return Err(format!("unknown runtime {other}")),
    };
    let node = Node {
        runtime,
        seccomp_default: args.seccomp_default,
        max_user_namespaces: args.max_user_namespaces,
    };
    match args.command.as_str() {
        "config" => {
            let c = oci_config(&pod, &node, &["/bin/true".to_string()], &[])
                .map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::to_string_pretty(&c).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        "run" => {
            let workload = workload(args.workload.as_deref().unwrap_or(""))?;
            let mut lab = Lab::new().map_err(|e| e.to_string())?;
            if let Some(p) = args.probe {
                lab = lab.with_probe(p);
            }
            let o = lab.run(&pod, &node, &workload).map_err(|e| e.to_string())?;
            println!("{}", o.output.trim_end());
            if let Some(r) = o.report {
                println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            }
            eprintln!("node-lab: exit {} after {:?}", o.exit_code, o.took);
            Ok(ExitCode::from(u8::try_from(o.exit_code).unwrap_or(1)))
        }
        other => Err(format!(
            "unknown command `{other}` (versions, config or run)"
        )),
    }
}

fn workload(name: &str) -> Result<Workload, String> {
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
            Some(("probe", s)) => Workload::Probe {
                sandbox: s.to_string(),
            },
            Some(("probe-setuid", s)) => Workload::ProbeWith {
                sandbox: s.to_string(),
                setuid_helpers: true,
                env: Vec::new(),
            },
            Some(("shell", c)) => Workload::Shell(c.to_string()),
            _ => return Err(format!("unknown workload `{other}`")),
        },
    })
}

fn parse(argv: Vec<String>) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = argv.into_iter();
    a.command = it
        .next()
        .ok_or("usage: node-lab versions | config [OPTIONS] | run [OPTIONS] WORKLOAD")?;
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--runtime" => a.runtime = Some(value()?),
            "--seccomp-default" => a.seccomp_default = true,
            "--max-user-namespaces" => {
                a.max_user_namespaces = Some(value()?.parse().map_err(|e| format!("{arg}: {e}"))?)
            }
            "--uid" => a.uid = Some(value()?.parse().map_err(|e| format!("{arg}: {e}"))?),
            "--pod-spec" => a.pod_spec = value()?,
            "--pod-security-context" => a.pod_context = value()?,
            "--container-security-context" => a.container_context = value()?,
            "--device" => a.devices.push(value()?),
            "--probe" => a.probe = Some(value()?),
            w if !w.starts_with("--") && a.workload.is_none() => a.workload = Some(w.to_string()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}
