"""A fault-injecting HTTP proxy on 127.0.0.1 for the acceptance suite.

    fault_proxy.py --port P --upstream http://127.0.0.1:M [--fault-rate 0.3] [--seed 7] [--delay-ms 0]

With probability --fault-rate a request is answered by the proxy itself,
without forwarding: alternately HTTP 429 (throttling) and HTTP 500 (internal
error), in the error shape of the AWS protocol the request uses:

- query protocol (EC2, STS: an Action parameter or a form body):
  <ErrorResponse><Error><Code>Throttling|InternalError</Code>... (STS),
  <Response><Errors><Error><Code>RequestLimitExceeded|InternalError</Code>... (EC2);
- JSON and REST-JSON (SSM, EKS): {"__type": ..., "message": ...} with
  x-amzn-ErrorType: ThrottlingException|InternalFailure.

Every other request is forwarded verbatim (method, path, query, headers
including Authorization, body) to --upstream and its answer relayed verbatim
(status, headers, body); only hop-by-hop headers are dropped.

With --delay-ms D every forwarded request waits D milliseconds before it
reaches the upstream (a slow network: creates are still in flight when a
test kills Terraform).

GET /fault-proxy/stats is answered by the proxy itself, never faulted:
{"faults": n, "forwarded": n, "throttled": n, "internal_errors": n}.
Test-server control paths (/moto-api/..., /nested-test/...) are always
forwarded, never faulted. Standard library only.
"""

import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
STATS_PATH = "/fault-proxy/stats"
NEVER_FAULTED = ("/moto-api", "/nested-test")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "expect",
}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.faults = 0
        self.forwarded = 0
        self.throttled = 0
        self.internal_errors = 0

    def next_fault(self):
        """Counts a fault; True for a throttle, False for an internal error."""
        with self.lock:
            self.faults += 1
            throttle = self.faults % 2 == 1
            if throttle:
                self.throttled += 1
            else:
                self.internal_errors += 1
            return throttle

    def count_forward(self):
        with self.lock:
            self.forwarded += 1

    def snapshot(self):
        with self.lock:
            return {
                "faults": self.faults,
                "forwarded": self.forwarded,
                "throttled": self.throttled,
                "internal_errors": self.internal_errors,
            }


def make_handler(upstream, rate, rng, stats, delay=0.0):
    target = urllib.parse.urlsplit(upstream)
    if target.scheme != "http" or not target.hostname:
        raise SystemExit(f"--upstream must be http://host:port, not {upstream!r}")
    upstream_port = target.port or 80
    rng_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fault-proxy"

        def log_message(self, *args):
            pass

        def _send(self, status, headers, body, content_length=None, own=True):
            # send_response_only: no Server/Date of our own on relayed answers.
            self.send_response_only(status)
            if own:
                self.send_header("Server", self.version_string())
                self.send_header("Date", self.date_time_string())
            for k, v in headers:
                if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                    continue
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body) if content_length is None else content_length))
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)

        def _read_body(self):
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        # trailers, up to the blank line
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks), True
            length = int(self.headers.get("Content-Length") or 0)
            return (self.rfile.read(length) if length else b""), False

        def _is_query_protocol(self, body):
            query = urllib.parse.urlsplit(self.path).query
            if "Action" in urllib.parse.parse_qs(query):
                return True
            ctype = (self.headers.get("Content-Type") or "").lower()
            if "x-www-form-urlencoded" in ctype:
                return True
            return body.startswith(b"Action=") or b"&Action=" in body

        def _is_ec2(self, body):
            # EC2 requests carry its API version (2016-11-15); STS uses the
            # generic awsQuery error shape instead.
            query = urllib.parse.urlsplit(self.path).query
            params = urllib.parse.parse_qs(query)
            params.update(urllib.parse.parse_qs(body.decode("utf-8", "replace")))
            return any(v.startswith("2016-11-15") for v in params.get("Version", []))

        def _fault(self, body):
            throttle = stats.next_fault()
            status = 429 if throttle else 500
            request_id = str(uuid.uuid4())
            if self._is_query_protocol(body) and self._is_ec2(body):
                # EC2's own query protocol: <Response><Errors>…, and EC2's
                # throttling code is RequestLimitExceeded.
                code = "RequestLimitExceeded" if throttle else "InternalError"
                message = "Request limit exceeded." if throttle else "An internal error has occurred"
                payload = (
                    "<Response><Errors><Error>"
                    f"<Code>{code}</Code><Message>{message}</Message>"
                    f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
                ).encode()
                headers = [("Content-Type", "text/xml;charset=UTF-8")]
            elif self._is_query_protocol(body):
                code = "Throttling" if throttle else "InternalError"
                kind = "Sender" if throttle else "Receiver"
                message = "Rate exceeded" if throttle else "An internal error has occurred"
                payload = (
                    "<ErrorResponse><Error>"
                    f"<Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>"
                    f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
                ).encode()
                headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
            else:
                code = "ThrottlingException" if throttle else "InternalFailure"
                message = "Rate exceeded" if throttle else "An internal error has occurred"
                payload = json.dumps({"__type": code, "message": message}).encode()
                headers = [
                    ("Content-Type", "application/json"),
                    ("x-amzn-ErrorType", code),
                    ("x-amzn-RequestId", request_id),
                ]
            self._send(status, headers, payload)

        def _forward(self, body, dechunked):
            headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
            if dechunked or (body and "Content-Length" not in self.headers):
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                headers.append(("Content-Length", str(len(body))))
            conn = http.client.HTTPConnection(target.hostname, upstream_port, timeout=120)
            try:
                # putrequest/putheader keep every header as sent, Host included.
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    conn.putheader(k, v)
                conn.endheaders(body if body else None)
                resp = conn.getresponse()
                data = resp.read()
                resp_headers = resp.getheaders()
                status = resp.status
            except OSError as e:
                payload = json.dumps({"message": f"fault proxy: upstream {upstream} failed: {e}"}).encode()
                self._send(502, [("Content-Type", "application/json")], payload)
                return
            finally:
                conn.close()
            stats.count_forward()
            length = None
            if self.command == "HEAD":
                length = next((v for k, v in resp_headers if k.lower() == "content-length"), "0")
            self._send(status, resp_headers, data, content_length=length, own=False)

        def _handle(self):
            body, dechunked = self._read_body()
            path = urllib.parse.urlsplit(self.path).path
            if path == STATS_PATH:
                payload = json.dumps(stats.snapshot()).encode()
                self._send(200, [("Content-Type", "application/json")], payload)
                return
            if not path.startswith(NEVER_FAULTED):
                with rng_lock:
                    fault = rng.random() < rate
                if fault:
                    self._fault(body)
                    return
                if delay:
                    time.sleep(delay)
            self._forward(body, dechunked)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    return Handler


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    p.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:5000")
    p.add_argument("--fault-rate", type=float, default=0.3, help="0..1, share of requests faulted")
    p.add_argument("--seed", type=int, default=7, help="seed of the fault dice")
    p.add_argument("--delay-ms", type=int, default=0, help="latency added to every forwarded request")
    args = p.parse_args(argv)
    if not 0.0 <= args.fault_rate <= 1.0:
        p.error("--fault-rate must be between 0 and 1")
    return args


def main(argv):
    args = parse_args(argv)
    stats = Stats()
    handler = make_handler(
        args.upstream, args.fault_rate, random.Random(args.seed), stats, args.delay_ms / 1000.0
    )
    server = ThreadingHTTPServer((HOST, args.port), handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
