#!/usr/bin/env python3
"""Runs a release's real `midclt` against a fake middleware and prints what it printed.

The fake middleware is a WebSocket server on 127.0.0.1 that answers each call with the
error the real middleware would send: it raises the middleware's own exception classes
(imported from a checkout of truenas/middleware), resolves method names with the
middleware's own `_method_lookup` (releases up to 24.10) and turns the exception into the
wire message the way that release's server does (`main.py` `call_method` / `send_error`
up to 24.10, `api/base/server/ws_handler/rpc.py` `process_method_call` from 25.04 on).
`midclt` itself is the release's client, run unchanged in a child process.

See README.md for the checkouts this needs and how the output became test cases.
"""

import argparse
import errno
import json
import os
import subprocess
import sys
import threading
import traceback
import types

# Namespaces each release registers as services, among those the cases call (from the
# `namespace = ...` of each plugin, or the service class name when there is none).
SERVICES = {
    "13.3": ["core", "system", "replication", "pool", "pool.snapshottask", "zfs.snapshot"],
    "24.04": ["core", "system", "replication", "pool", "pool.snapshottask", "zfs.snapshot"],
    "24.10": ["core", "system", "replication", "pool", "pool.snapshottask", "zfs.snapshot"],
    "25.04": ["core", "system", "replication", "pool", "pool.snapshottask", "zfs.snapshot"],
    "25.10": ["core", "system", "replication", "pool", "pool.snapshottask", "zfs.snapshot",
              "pool.snapshot"],
}

# Methods of those services that the cases call and that exist.
METHODS = ["query", "get_instance", "create", "delete", "run", "version"]

# (argv after `call`, what the method raises). `raise` is evaluated with the middleware's
# names in scope: CallError, InstanceNotFound, MatchNotFound, filter_list, errno.
CASES = [
    (["pool.snapshottask.run", "2"], "raise CallError('Task is not enabled')"),
    (["replication.query", '[["id","=",42]]', '{"get":true}'],
     "filter_list([], [['id', '=', 42]], {'get': True})"),
    (["replication.nope"], None),
    (["nothing.here"], None),
    (["pool.snapshot.query"], "return_empty"),
    (["nodot"], None),
    (["zfs.snapshot.create", '{"dataset":"tank/data","name":"auto-1"}'],
     "raise CallError('Failed to snapshot tank/data@auto-1: dataset already exists', "
     "errno.EFAULT if CORE else errno.EEXIST)"),
    (["zfs.snapshot.create", '{"dataset":"tank/nope","name":"x"}'],
     "raise CallError('Failed to snapshot tank/nope@x: Dataset tank/nope not found')"),
    (["zfs.snapshot.delete", '"tank/data@nope"'],
     "raise CallError('Snapshot tank/data@nope not found') if CORE else "
     "InstanceNotFound('Snapshot tank/data@nope not found')"),
]


def from_json(arg):
    """midclt passes each argument through json.loads, or as the string it is."""
    try:
        return json.loads(arg)
    except ValueError:
        return arg


def key(name, params):
    return name, json.dumps(params, sort_keys=True)


def load_middleware(src):
    """Imports the middleware's exception classes, filter_list and method lookup."""
    sys.path.insert(0, os.path.join(src, "src", "middlewared"))
    # CORE runs Python 3.9, which still has these aliases.
    import collections
    import collections.abc
    collections.Callable = collections.abc.Callable
    # CORE's utils import a Linux-only helper when they run on Linux; it is never called.
    sys.modules.setdefault("prctl", types.ModuleType("prctl"))
    import middlewared.service_exception as se
    try:
        from middlewared.utils.filter_list import filter_list
    except ImportError:
        from middlewared.utils import filter_list
    from middlewared.utils.service.call import ServiceCallMixin
    return se, filter_list, ServiceCallMixin


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--release", required=True, choices=sorted(SERVICES))
    ap.add_argument("--middleware", required=True, help="checkout of the release's middleware")
    ap.add_argument("--client", help="checkout of truenas/api_client (24.10 and later)")
    ap.add_argument("--json", action="store_true", help="print one JSON object per case")
    args = ap.parse_args()

    release = args.release
    core = release == "13.3"
    jsonrpc = release >= "25.04"
    if args.client:
        sys.path.insert(0, args.client)
    se, filter_list, ServiceCallMixin = load_middleware(args.middleware)

    class Services(ServiceCallMixin):
        def get_service(self, name):
            if name not in SERVICES[release]:
                raise KeyError(name)
            return types.SimpleNamespace(**{m: (lambda *a: None) for m in METHODS})

    lookup = Services()
    cases = {key(c[0][0], [from_json(a) for a in c[0][1:]]): c[1] for c in CASES}

    def run_method(name, params):
        """Runs the case's method body; returns its result or raises what it raises."""
        body = cases.get(key(name, params))
        scope = {
            # CORE 13.3 has no InstanceNotFound; its cases do not use it.
            "CallError": se.CallError, "InstanceNotFound": getattr(se, "InstanceNotFound", None),
            "MatchNotFound": se.MatchNotFound, "filter_list": filter_list, "errno": errno,
            "CORE": core,
        }
        if body == "return_empty":
            return []
        if body.startswith("raise "):
            raise eval(body[len("raise "):], scope)
        return eval(body, scope)

    def legacy_error(errno_, reason, exc_info=None, etype=None, extra=None):
        # main.py Application.get_error_dict (13.3, 24.04, 24.10)
        return {
            "error": errno_,
            "errname": se.get_errname(errno_) if hasattr(se, "get_errname") else None,
            "type": etype,
            "reason": reason,
            "trace": trace(exc_info) if exc_info else None,
            "extra": extra,
        }

    def trace(exc_info):
        return {
            "class": exc_info[0].__name__,
            "frames": [],
            "formatted": "".join(traceback.format_exception(*exc_info)),
            "repr": repr(exc_info[1]),
        }

    def legacy_answer(name, params):
        """main.py on_message + call_method: the `error` of the result message."""
        try:
            lookup._method_lookup(name)
        except se.CallError as e:
            return legacy_error(e.errno, str(e), sys.exc_info(), extra=e.extra)
        try:
            return {"result": run_method(name, params)}
        except se.ValidationError as e:
            return legacy_error(e.errno, str(e), sys.exc_info(), "VALIDATION",
                                [(e.attribute, e.errmsg, e.errno)])
        except se.ValidationErrors as e:
            return legacy_error(errno.EAGAIN, str(e), sys.exc_info(), "VALIDATION", list(e))
        except se.CallException as e:
            return legacy_error(e.errno, str(e), sys.exc_info(), extra=e.extra)
        except Exception as e:
            # 13.3 sends str(e); 24.04 and 24.10 fall back to repr(e) when str(e) is empty.
            reason = str(e) if core else (str(e) or repr(e))
            return legacy_error(errno.EINVAL, reason, sys.exc_info())

    def jsonrpc_answer(name, params):
        """rpc.py RpcWebSocketHandler.process_message + process_method_call."""
        from truenas_api_client.jsonrpc import JSONRPCError
        names = {f"{s}.{m}" for s in SERVICES[release] for m in METHODS}
        if name not in names:
            return {"error": {"code": JSONRPCError.METHOD_NOT_FOUND.value,
                              "message": "Method does not exist"}}

        def truenas(code, message, errno_, reason, exc_info, extra):
            return {"error": {"code": code, "message": message, "data": {
                "error": errno_, "errname": se.get_errname(errno_), "reason": reason,
                "trace": trace(exc_info), "extra": extra}}}
        try:
            return {"result": run_method(name, params)}
        except se.ValidationError as e:
            return truenas(JSONRPCError.INVALID_PARAMS.value, "Invalid params", errno.EINVAL,
                           str(e), sys.exc_info(), [(e.attribute, e.errmsg, e.errno)])
        except se.ValidationErrors as e:
            return truenas(JSONRPCError.INVALID_PARAMS.value, "Invalid params", errno.EINVAL,
                           str(e), sys.exc_info(), list(e))
        except se.CallException as e:
            return truenas(JSONRPCError.TRUENAS_CALL_ERROR.value, "Method call error", e.errno,
                           str(e), sys.exc_info(), e.extra)
        except Exception as e:
            return truenas(JSONRPCError.TRUENAS_CALL_ERROR.value, "Method call error",
                           errno.EINVAL, str(e) or repr(e), sys.exc_info(), None)

    from websockets.sync.server import serve

    def handler(ws):
        for raw in ws:
            msg = json.loads(raw)
            if jsonrpc:
                if msg.get("method") == "core.set_options":
                    out = {"result": None}
                else:
                    out = jsonrpc_answer(msg["method"], msg.get("params") or [])
                out.update({"jsonrpc": "2.0", "id": msg.get("id")})
                ws.send(json.dumps(out))
            elif msg.get("msg") == "connect":
                ws.send(json.dumps({"msg": "connected", "session": "s"}))
            elif msg.get("msg") == "ping":
                ws.send(json.dumps({"msg": "pong", "id": msg.get("id")}))
            elif msg.get("msg") == "method":
                if msg["method"] == "core.set_options":
                    answer = {"result": None}
                else:
                    answer = legacy_answer(msg["method"], msg.get("params") or [])
                reply = {"msg": "result", "id": msg["id"]}
                if "result" in answer:
                    reply["result"] = answer["result"]
                else:
                    reply["error"] = answer
                ws.send(json.dumps(reply))

    server = serve(handler, "127.0.0.1", 0)
    port = server.socket.getsockname()[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"ws://127.0.0.1:{port}/" + ("api/current" if jsonrpc else "websocket")

    if args.client and release >= "24.10":
        client_path, entry = args.client, "truenas_api_client"
    else:
        client_path, entry = os.path.join(args.middleware, "src", "middlewared"), \
            "middlewared.client.client"
    runner = (
        "import collections, collections.abc, sys\n"
        "collections.Callable = collections.abc.Callable\n"
        f"from {entry} import main\n"
        "sys.argv = ['midclt'] + sys.argv[1:]\n"
        "main()\n"
    )
    env = dict(os.environ, PYTHONPATH=client_path)
    for argv, _ in CASES:
        cmd = [sys.executable, "-c", runner, "-u", uri, "call", *argv]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        if args.json:
            print(json.dumps({"release": release, "argv": ["call", *argv], "exit": p.returncode,
                              "stdout": p.stdout, "stderr": p.stderr}))
        else:
            print(f"== {release}: midclt call {' '.join(argv)}")
            print(f"exit {p.returncode}")
            print(f"stdout {p.stdout!r}")
            head, tail = split_traceback(p.stderr)
            print(f"stderr head {head!r}")
            print(f"stderr tail {tail!r}")
    server.shutdown()


def split_traceback(stderr):
    """What precedes the first frame of a traceback, and its last line onwards (the frames
    are the fake server's, not the middleware's)."""
    marker = "Traceback (most recent call last):\n"
    if marker not in stderr:
        return stderr, ""
    head, _, rest = stderr.partition(marker)
    lines = rest.split("\n")
    # The exception line is the last line that does not start with a space.
    last = max(i for i, line in enumerate(lines) if line and not line.startswith(" "))
    return head + marker, "\n".join(lines[last:])


if __name__ == "__main__":
    main()
