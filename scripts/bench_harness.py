"""What `make bench` (scripts/bench.py) runs things with: Terraform workspaces
with dev_overrides, timed runs, the configurations it plans, and moto on
127.0.0.1 (acceptance/tools/moto_server.py) with its call counter."""

import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(REPO, ".venv")
TERRAFORM = os.path.join(VENV, "bin", "terraform")
PYTHON = os.path.join(VENV, "bin", "python")
SOURCE = "registry.terraform.io/nested-sandbox/nested"
BINARY = "terraform-provider-nested"
COOKIE = ("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")


# ---------------------------------------------------------------- helpers


def median_min_max(xs):
    return statistics.median(xs), min(xs), max(xs)


def fmt(xs, unit="", digits=0):
    m, lo, hi = median_min_max(xs)
    f = f"{{:.{digits}f}}"
    return f"{f.format(m)}{unit} ({f.format(lo)}–{f.format(hi)})"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    def __init__(self, code, wall, cpu, out, err):
        self.code, self.wall, self.cpu, self.out, self.err = code, wall, cpu, out, err


def run(argv, cwd, env):
    """Run a command; wall seconds and the CPU seconds of its whole process
    tree (every descendant the tree waited for, e.g. provider processes)."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.monotonic() - started
    # Popen.communicate reaped it; its rusage reached RUSAGE_CHILDREN.
    return Run(proc.returncode, wall, None, out.decode(errors="replace"), err.decode(errors="replace"))


def run_cpu(argv, cwd, env):
    """Like run(), also measuring CPU through wait4."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Drain pipes without reaping, then wait4 for the rusage.
    out, err = b"", b""
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    sel.register(proc.stderr, selectors.EVENT_READ)
    open_streams = 2
    chunks = {proc.stdout: [], proc.stderr: []}
    while open_streams:
        for key, _ in sel.select():
            data = key.fileobj.read1(65536)
            if not data:
                sel.unregister(key.fileobj)
                open_streams -= 1
            else:
                chunks[key.fileobj].append(data)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    out, err = b"".join(chunks[proc.stdout]), b"".join(chunks[proc.stderr])
    return Run(proc.returncode, wall, usage.ru_utime + usage.ru_stime, out.decode(errors="replace"), err.decode(errors="replace"))


class Workspace:
    def __init__(self, provider_dir, config):
        self.dir = tempfile.mkdtemp(prefix="nested-bench-")
        with open(os.path.join(self.dir, "cli.tfrc"), "w") as f:
            f.write(
                "provider_installation {\n  dev_overrides {\n"
                f'    "{SOURCE}" = "{provider_dir}"\n  }}\n  direct {{}}\n}}\n'
            )
        with open(os.path.join(self.dir, "main.tf"), "w") as f:
            f.write(config)
        self.env = dict(os.environ)
        self.env.update(
            TF_CLI_CONFIG_FILE=os.path.join(self.dir, "cli.tfrc"),
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            CHECKPOINT_DISABLE="1",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_EC2_METADATA_DISABLED="true",
        )
        for k in ("TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_PROVIDER_NESTED"):
            self.env.pop(k, None)

    def tf(self, *args, cpu=False):
        argv = [TERRAFORM, *args]
        r = (run_cpu if cpu else run)(argv, self.dir, self.env)
        if r.code not in (0, 2):
            raise SystemExit(f"terraform {' '.join(args)} failed ({r.code}):\n{r.out}\n{r.err}")
        return r

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def timed_provider_dir(real_dir, log_path):
    """A dev_overrides directory whose provider runs the real one under
    /usr/bin/time, appending "user system maxrss_kib" per process."""
    d = tempfile.mkdtemp(prefix="nested-bench-timed-")
    wrapper = os.path.join(d, BINARY)
    with open(wrapper, "w") as f:
        f.write(
            "#!/bin/sh\n"
            f'exec /usr/bin/time -a -o "{log_path}" -f "%U %S %M" "{os.path.join(real_dir, BINARY)}" "$@"\n'
        )
    os.chmod(wrapper, 0o755)
    return d


def read_time_log(path):
    user = system = 0.0
    peak = 0
    n = 0
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    try:
                        u, s, m = float(parts[0]), float(parts[1]), int(parts[2])
                    except ValueError:
                        continue
                    user, system, peak, n = user + u, system + s, max(peak, m), n + 1
    return user + system, peak, n


# ---------------------------------------------------------------- configs

HEADER = """terraform {
  required_providers {
    nested = { source = "nested-sandbox/nested" }
  }
}
"""


def provider_block(endpoint=None, offline=False):
    if offline:
        return 'provider "nested" {\n  offline = true\n}\n'
    return (
        'provider "nested" {\n  region = "us-east-1"\n  max_retries = 10\n  endpoints = {\n'
        f'    eks = "{endpoint}"\n    ec2 = "{endpoint}"\n    ssm = "{endpoint}"\n    sts = "{endpoint}"\n'
        "  }\n}\n"
    )


SANDBOXES = [
    ("nsjail", "bottlerocket", "1.33"),
    ("landjail", "al2023", "1.34"),
    ("bubblewrap", "bottlerocket", "1.35"),
    ("podman", "al2023", "1.34"),
]


def capabilities_config(n):
    parts = [HEADER, provider_block(offline=True)]
    for i in range(n):
        sandbox, family, version = SANDBOXES[i % len(SANDBOXES)]
        parts.append(
            f'data "nested_capability" "c{i}" {{\n  sandbox = "{sandbox}"\n  platform = "eks"\n'
            f'  ami_family = "{family}"\n  kubernetes_version = "{version}"\n}}\n'
        )
    return "".join(parts)


def terraform_data_config(n, start=0):
    return "".join(f'resource "terraform_data" "d{i}" {{\n  input = "{i}"\n}}\n' for i in range(start, n))


def nodegroups_config(endpoint, n):
    parts = [HEADER, provider_block(endpoint)]
    for i in range(n):
        sandbox, family, _ = SANDBOXES[i % len(SANDBOXES)]
        parts.append(
            f'resource "nested_nodegroup" "g{i}" {{\n  cluster_name = "bench"\n  name = "g{i}"\n'
            '  node_role_arn = "arn:aws:iam::123456789012:role/nodes"\n'
            '  subnet_ids = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]\n'
            f'  sandbox = "{sandbox}"\n  ami_family = "{family}"\n'
            '  instance_types = ["m6i.large"]\n'
            "  scaling = { min_size = 1, max_size = 3, desired_size = 1 }\n}\n"
        )
    return "".join(parts)


# ---------------------------------------------------------------- moto


class Moto:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(REPO, "acceptance/tools/moto_server.py"), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.get("/moto-api/data.json")
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("moto did not start")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def get(self, path, method="GET"):
        req = urllib.request.Request(self.endpoint + path, method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read()

    def calls(self):
        return json.loads(self.get("/nested-test/calls"))

    def timing(self):
        return json.loads(self.get("/nested-test/timing"))

    def reset(self):
        self.get("/nested-test/calls/reset", method="POST")

    def boto3(self, script):
        prelude = (
            "import boto3\n"
            f"kw = dict(endpoint_url='{self.endpoint}', region_name='us-east-1', "
            "aws_access_key_id='testing', aws_secret_access_key='testing')\n"
            "eks = boto3.client('eks', **kw)\nec2 = boto3.client('ec2', **kw)\n"
        )
        return subprocess.run([PYTHON, "-c", prelude + script], check=True, capture_output=True, text=True).stdout

    def stop(self):
        self.proc.kill()
        self.proc.wait()
