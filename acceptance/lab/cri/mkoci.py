#!/usr/bin/env python3
"""A one-layer OCI image archive (an oci-layout tar, as `ctr images import`
takes it) from a root filesystem directory. GNU tar keeps numeric owners,
setuid bits and the security.capability xattrs (newuidmap's file caps)."""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import tempfile


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--name", required=True)
    p.add_argument("--rootfs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--entrypoint")
    p.add_argument("--cmd")
    a = p.parse_args()
    work = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(a.out)))
    blobs = os.path.join(work, "blobs", "sha256")
    os.makedirs(blobs)

    def put(path):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        size = os.path.getsize(path)
        os.replace(path, os.path.join(blobs, h.hexdigest()))
        return "sha256:" + h.hexdigest(), size

    def put_json(obj):
        path = os.path.join(work, "obj")
        with open(path, "w") as f:
            json.dump(obj, f, sort_keys=True)
        return put(path)

    layer = os.path.join(work, "layer.tar")
    subprocess.check_call([
        "tar", "-C", a.rootfs, "--numeric-owner", "--xattrs",
        "--xattrs-include=security.capability", "--sort=name",
        "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*",
        "-cf", layer, "."])
    layer_digest, layer_size = put(layer)
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
              "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}
    if a.entrypoint:
        config["config"]["Entrypoint"] = a.entrypoint.split(",")
    if a.cmd:
        config["config"]["Cmd"] = a.cmd.split(",")
    config_digest, config_size = put_json(config)
    manifest_digest, manifest_size = put_json({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": layer_size}]})
    with open(os.path.join(work, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest_size,
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"io.containerd.image.name": a.name,
                            "org.opencontainers.image.ref.name": a.name}}]}, f)
    with open(os.path.join(work, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    tmp_out = a.out + ".part"
    subprocess.check_call(["tar", "-C", work, "-cf", tmp_out, "oci-layout", "index.json", "blobs"])
    os.replace(tmp_out, a.out)
    shutil.rmtree(work)
    print(a.out, manifest_digest, layer_size)


if __name__ == "__main__":
    main()
