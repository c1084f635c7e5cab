"""moto's AWS API server for the acceptance suite and `make demo`.

Binds 127.0.0.1 only. APIs moto lacks (the provider needs a few EKS ones
later) are added here, never faked inside the provider.
"""

import argparse
import sys

from moto.server import main as moto_main


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    return p.parse_args(argv)


if __name__ == "__main__":
    args = parse_args(sys.argv[1:])
    sys.exit(moto_main(["-H", "127.0.0.1", "-p", str(args.port)]))
