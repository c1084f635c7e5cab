"""The call counter of acceptance/tools/moto_server.py: WSGI middleware around
moto's app that counts AWS calls by service:Action and answers the test
endpoints under /nested-test/ (calls, reset, timing, counts)."""

import io
import json
import threading
import time
from urllib.parse import parse_qs


TARGET_SERVICES = {"AmazonSSM": "ssm"}


def _service(environ):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        # AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...
        scope = auth.split(",")[0].split()[1].split("=", 1)[1]
        return scope.split("/")[3].lower()
    except (IndexError, ValueError):
        pass
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        prefix = target.split(".")[0]
        return TARGET_SERVICES.get(prefix, prefix.lower())
    host = environ.get("HTTP_HOST", "")
    if host.endswith("amazonaws.com"):
        return host.split(".")[0]
    return "unknown"


def _rest_action(service, environ, body):
    from moto.core.request import Request
    from moto.core.routing import get_service_router

    env = dict(environ)
    env["wsgi.input"] = io.BytesIO(body)
    try:
        operation, _ = get_service_router(service).match(Request(env))
        return operation.name
    except Exception:  # noqa: BLE001 - unknown service or path: fall through
        return None


def request_action(environ, body):
    service = _service(environ)
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return f"{service}:{target.split('.')[-1]}"
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not action and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", "") and body:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        return f"{service}:{action[0]}"
    name = _rest_action(service, environ, body)
    if name:
        return f"{service}:{name}"
    return f"{service}:{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"


def resource_counts(cluster_name, account="123456789012", region="us-east-1"):
    from moto.ec2.models import ec2_backends
    from moto.eks.models import eks_backends

    cluster = eks_backends[account][region].clusters.get(cluster_name)
    return {
        "nodegroups": len(cluster.nodegroups) if cluster is not None else 0,
        "launch_templates": len(ec2_backends[account][region].launch_templates),
    }


class CallCounter:
    """Counts API calls by service:Action and answers /nested-test/*."""

    def __init__(self, app):
        self.app = app
        self.calls = {}
        self.lock = threading.Lock()
        self.in_flight = 0
        self.busy_since = 0.0
        self.busy_s = 0.0
        self.sum_s = 0.0

    def _json(self, start_response, status, payload):
        body = json.dumps(payload, sort_keys=True).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if path.startswith("/nested-test/"):
            if path.rstrip("/") == "/nested-test/calls" and method == "GET":
                with self.lock:
                    return self._json(start_response, "200 OK", dict(self.calls))
            if path.rstrip("/") == "/nested-test/calls/reset" and method == "POST":
                with self.lock:
                    self.calls.clear()
                    self.busy_s = self.sum_s = 0.0
                return self._json(start_response, "200 OK", {})
            if path.rstrip("/") == "/nested-test/timing" and method == "GET":
                with self.lock:
                    busy = self.busy_s + (time.monotonic() - self.busy_since if self.in_flight else 0.0)
                    return self._json(start_response, "200 OK", {"busy_s": busy, "sum_s": self.sum_s})
            if path.rstrip("/") == "/nested-test/counts" and method == "GET":
                cluster = parse_qs(environ.get("QUERY_STRING", "")).get("cluster", [""])[0]
                return self._json(start_response, "200 OK", resource_counts(cluster))
            return self._json(start_response, "404 Not Found", {"message": f"no {method} {path}"})
        if path.startswith("/moto-api") or path == "/favicon.ico":
            return self.app(environ, start_response)
        body = self._buffer_body(environ)
        try:
            name = request_action(environ, body)
        except Exception:  # noqa: BLE001 - counting must never break a call
            name = "unknown:unknown"
        started = time.monotonic()
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            if self.in_flight == 0:
                self.busy_since = started
            self.in_flight += 1
        try:
            # moto answers with a list: the work is done by the time it returns.
            return self.app(environ, start_response)
        finally:
            ended = time.monotonic()
            with self.lock:
                self.in_flight -= 1
                self.sum_s += ended - started
                if self.in_flight == 0:
                    self.busy_s += ended - self.busy_since

    @staticmethod
    def _buffer_body(environ):
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH")
        if length:
            body = stream.read(int(length))
        elif environ.get("wsgi.input_terminated"):
            body = stream.read()
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        if body and not length:
            environ["CONTENT_LENGTH"] = str(len(body))
        return body
