//! node-lab: one lab scenario by hand, from the provider's JSON outputs.
//!
//! ```text
//! node-lab versions
//! node-lab config [OPTIONS]            print the config.json the CRI would write
//! node-lab run [OPTIONS] WORKLOAD      run WORKLOAD in that pod container (as root)
//! node-lab batch FILE                  run a JSON list of node_lab::vm::Scenario, printing
//!                                      one NODE-LAB-* line each (what a micro-VM runs)
//!
//! OPTIONS  --runtime containerd|cri-o   (default containerd)
//!          --seccomp-default            kubelet seccompDefault: true
//!          --max-user-namespaces N      emulate the node sysctl
//!          --uid N                      the image's user (default 1000)
//!          --pod-spec JSON  --pod-security-context JSON  --container-security-context JSON
//!          --device PATH                a device the container gets (repeatable)
//!          --service-account-token      the kubelet's projected token volume (tmpfs)
//!          --probe PATH                 nested-probe binary for probe:SANDBOX
//!          --kernel SERIES              run: in a micro-VM with Debian's cloud kernel
//!                                       6.1 or 6.12 (setup.sh fetches them; containerd
//!                                       defaults only; NESTED_PROBE names the probe)
//! WORKLOAD bubblewrap | podman | podman-setuid | nsjail | nsjail-no-userns |
//!          landjail | probe:SANDBOX | probe-setuid:SANDBOX | shell:COMMAND
//! ```
//! `run` prints the output and exits with the container's exit code.

use std::process::ExitCode;

use node_lab::vm::{Kernel, Scenario, VmOptions, boot};
use node_lab::{Lab, Node, Pod, RuntimeDefaults, Workload, oci_config};
use serde_json::Value;

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
    service_account_token: bool,
    probe: Option<String>,
    kernel: Option<String>,
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
    if args.command == "batch" {
        let file = args
            .workload
            .as_deref()
            .ok_or("usage: node-lab batch FILE")?;
        let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        let scenarios: Vec<node_lab::vm::Scenario> =
            serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
        node_lab::vm::run_batch(&scenarios).map_err(|e| e.to_string())?;
        return Ok(ExitCode::SUCCESS);
    }
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
    pod.service_account_token = args.service_account_token;
    let runtime = match args.runtime.as_deref() {
        None | Some("containerd") => RuntimeDefaults::containerd(),
        Some("cri-o") | Some("crio") => RuntimeDefaults::cri_o(),
        Some(other) => return Err(format!("unknown runtime {other}")),
    }
    .map_err(|e| e.to_string())?;
    let node = Node {
        runtime,
        seccomp_default: args.seccomp_default,
        max_user_namespaces: args.max_user_namespaces,
        apparmor_default: None,
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
        "run" if args.kernel.is_some() => run_in_vm(&args),
        "run" => {
            let workload = Workload::parse(args.workload.as_deref().unwrap_or(""), &[])?;
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
            "unknown command `{other}` (versions, config, run or batch)"
        )),
    }
}

/// `run --kernel SERIES`: the scenario in a micro-VM (node_lab::vm).
fn run_in_vm(args: &Args) -> Result<ExitCode, String> {
    if args.runtime.as_deref().is_some_and(|r| r != "containerd")
        || args.max_user_namespaces.is_some()
        || !args.devices.is_empty()
        || args.probe.is_some()
    {
        return Err(
            "--kernel runs containerd pods only: no --runtime cri-o, --max-user-namespaces, \
                    --device or --probe (NESTED_PROBE names the probe)"
                .into(),
        );
    }
    let json = |name: &str, text: &str| -> Result<Value, String> {
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))
    };
    let workload = args.workload.clone().unwrap_or_default();
    Workload::parse(&workload, &[])?;
    let scenario = Scenario {
        name: workload.clone(),
        pod_spec: json("--pod-spec", &args.pod_spec)?,
        pod_security_context: json("--pod-security-context", &args.pod_context)?,
        container_security_context: json("--container-security-context", &args.container_context)?,
        uid: args.uid.unwrap_or(1000),
        workload,
        env: Vec::new(),
        service_account_token: args.service_account_token,
        devices: args.devices.clone(),
        seccomp_default: args.seccomp_default,
        apparmor_default: None,
        timeout_secs: None,
    };
    let series = args.kernel.as_deref().unwrap_or_default();
    let kernel = Kernel::cached(series).map_err(|e| e.to_string())?;
    let run = boot(&kernel, &[scenario], &VmOptions::default()).map_err(|e| e.to_string())?;
    let r = run.results.first().ok_or("the VM returned no result")?;
    println!("{}", r.output.trim_end());
    if let Some(report) = &r.report {
        println!(
            "{}",
            serde_json::to_string_pretty(report).unwrap_or_default()
        );
    }
    eprintln!(
        "node-lab: {} (Landlock ABI {:?}, LSMs {}): exit {} after {} ms; boot {:?}, VM {:?}",
        run.versions.kernel,
        run.versions.landlock_abi,
        run.versions.lsms.join(","),
        r.exit_code,
        r.took_ms,
        run.boot,
        run.run
    );
    Ok(ExitCode::from(u8::try_from(r.exit_code).unwrap_or(1)))
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
            "--service-account-token" => a.service_account_token = true,
            "--probe" => a.probe = Some(value()?),
            "--kernel" => a.kernel = Some(value()?),
            w if !w.starts_with("--") && a.workload.is_none() => a.workload = Some(w.to_string()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}
