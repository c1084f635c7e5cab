"""What an OCI image archive holds, read from the archive itself (the
`oci-archive:` layout podman and buildah write): its layers' files, its
entrypoint and platform, what a node pulls and what it unpacks. Standard
library only.

Used by scripts/probe-image.sh (which fails unless the image holds exactly
one file, the entrypoint) and by scripts/bench.py (the image's size).

    python3 scripts/oci_image.py ARCHIVE [--only FILE --entrypoint PATH]
"""

import argparse
import gzip
import io
import json
import sys
import tarfile


def summary(path):
    """{files, layers, entrypoint, platform, pulled, unpacked} of the first
    image in the archive; sizes in bytes (pulled = layers + config as
    stored, unpacked = the layers' tar streams)."""
    with tarfile.open(path) as tar:
        def blob(digest):
            return tar.extractfile("blobs/" + digest.replace(":", "/", 1)).read()

        index = json.loads(tar.extractfile("index.json").read())
        manifest = json.loads(blob(index["manifests"][0]["digest"]))
        config = json.loads(blob(manifest["config"]["digest"]))
        layers = []
        for layer in manifest["layers"]:
            data = blob(layer["digest"])
            layers.append(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    files = []
    for data in layers:
        with tarfile.open(fileobj=io.BytesIO(data)) as layer:
            files += [m.name.lstrip("./") for m in layer.getmembers() if not m.isdir()]
    return {
        "files": files,
        "layers": len(layers),
        "entrypoint": config.get("config", {}).get("Entrypoint"),
        "platform": f"{config['os']}/{config['architecture']}",
        "pulled": sum(layer["size"] for layer in manifest["layers"]) + manifest["config"]["size"],
        "unpacked": sum(len(data) for data in layers),
    }


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("archive")
    ap.add_argument("--only", help="fail unless this is the image's only file")
    ap.add_argument("--entrypoint", help="fail unless this is the image's entrypoint")
    args = ap.parse_args(argv)
    s = summary(args.archive)
    if args.only is not None and s["files"] != [args.only]:
        sys.exit(f"{args.archive}: the image holds {s['files']}, expected only {args.only}")
    if args.entrypoint is not None and s["entrypoint"] != [args.entrypoint]:
        sys.exit(f"{args.archive}: the entrypoint is {s['entrypoint']}, expected [{args.entrypoint!r}]")
    print(f"{s['layers']} layer(s), files {s['files']}, entrypoint {s['entrypoint']}, platform {s['platform']}; "
          f"{s['pulled']} bytes to pull (layers + config), {s['unpacked']} bytes unpacked")


if __name__ == "__main__":
    main(sys.argv[1:])
