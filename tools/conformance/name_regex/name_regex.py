#!/usr/bin/env python3
"""Runs the real code paths that judge and use a replication task's `name_regex` and prints
what each produces, as the expected texts of `tests/sim_conformance_regex.rs`.

* `replication.create` / `replication.update`: the plugin's own `_validate` (taken from
  `src/middlewared/middlewared/plugins/replication.py` of each release branch), run against
  a fake middleware, with the branch's real `ValidationErrors`; printed as midclt prints a
  `ValidationErrors` (`[EINVAL] replication_create.<attribute>: <message>`).
* `replication.count_eligible_manual_snapshots`: the branch's `compile_name_regex` call
  site wording (`Invalid `name_regex`: <error>`), with zettarepl's real
  `compile_name_regex` (`zettarepl/replication/task/name_pattern.py`).
* A replication run: zettarepl's real `get_snapshots_to_send_with_name_pattern`
  (`zettarepl/replication/snapshots_to_send.py`) on given source and target snapshots.

Run it with the Python the releases ship (3.11 for 24.04 to 25.10):

    python3.11 name_regex.py --middleware MIDDLEWARE_GIT_DIR --zettarepl ZETTAREPL_GIT_DIR

Both directories are git repositories (bare or not) of truenas/middleware and
truenas/zettarepl; files are read with `git show`, nothing is installed.
"""

import argparse
import ast
import asyncio
import json
import subprocess
import sys
import textwrap
import types

BRANCHES = {
    "24.04": "stable/dragonfish",
    "24.10": "stable/electriceel",
    "25.04": "stable/fangtooth",
    "25.10": "stable/goldeye",
}

# Patterns where Python's `re` and Rust's `regex` disagree, and plain mistakes.
PATTERNS = [
    r"auto-.*",
    r"(?=auto)auto-\d+",
    r"(?<!manual-)\d+",
    r"(?<=a+)b",
    r"(a)\1",
    r"(?P<n>a)(?P=n)",
    r"(?>a+)b",
    r"a\Z",
    r"a\z",
    r"a(?i)b",
    r"x{,3}",
    r"(",
    r")",
    r"\q",
    r"*",
    r"a**",
    r"[z-a]",
    r"(?<n>a)",
    r"a{3,1}",
]

# (pattern, source snapshots oldest first, target snapshots)
RUNS = [
    (r"auto-.*", ["auto-1", "manual-1", "auto-2"], []),
    (r"auto-\d", ["auto-1", "auto-2", "auto-3"], ["auto-1"]),
    (r"auto", ["auto-1"], []),
    (r"(?!manual).*", ["auto-1", "manual-1", "hourly-1"], []),
    (r"\w+-(\d)(?<=1)", ["a-1", "a-2", "b-1"], []),
    (r"auto-.*", ["manual-1"], ["manual-0"]),
    (r"auto-.*", ["auto-1", "manual-1", "auto-2"], ["manual-1"]),
]


def git_show(gitdir, rev, path):
    return subprocess.run(
        ["git", "-C", gitdir, "show", f"{rev}:{path}"],
        check=True, capture_output=True, text=True,
    ).stdout


def load_module(name, source, extra=None):
    module = types.ModuleType(name)
    module.__dict__.update(extra or {})
    exec(compile(source, name, "exec"), module.__dict__)
    return module


def service_exception(gitdir, branch):
    """The branch's `service_exception.py`, its client import served by a stub."""
    source = git_show(gitdir, branch, "src/middlewared/middlewared/service_exception.py")

    class ErrnoMixin:
        @classmethod
        def _get_errname(cls, code):
            return None

    stub = types.ModuleType("stub_client")
    stub.ErrnoMixin = ErrnoMixin
    sys.modules["truenas_api_client"] = stub
    source = source.replace("from .client import ErrnoMixin", "from truenas_api_client import ErrnoMixin")
    return load_module("service_exception", source)


def validate_function(gitdir, branch, exc):
    """`ReplicationService._validate` of the branch, compiled on its own."""
    source = git_show(gitdir, branch, "src/middlewared/middlewared/plugins/replication.py")
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "ReplicationService":
            for item in node.body:
                if isinstance(item, ast.AsyncFunctionDef) and item.name == "_validate":
                    code = textwrap.dedent(ast.get_source_segment(source, item))
                    import re as re_module
                    from datetime import datetime, time

                    def is_child(child, parent):
                        return child == parent or child.startswith(parent + "/")

                    namespace = {
                        "re": re_module, "datetime": datetime, "time": time,
                        "ValidationErrors": exc.ValidationErrors, "CallError": exc.CallError,
                        "is_child": is_child,
                    }
                    exec(compile(code, "_validate", "exec"), namespace)
                    return namespace["_validate"]
    raise SystemExit(f"{branch}: no ReplicationService._validate")


class FakeMiddleware:
    async def call(self, method, *args):
        raise AssertionError(f"unexpected middleware call {method}{args}")


class FakeReplicationService:
    def __init__(self, validate, exc):
        self.middleware = FakeMiddleware()
        self._validate_impl = validate
        self.exc = exc

    async def _ensure_unique(self, verrors, schema, field, value, id_=None):
        pass

    async def _query_periodic_snapshot_tasks(self, ids):
        return self.exc.ValidationErrors(), []

    async def validate(self, data):
        return await self._validate_impl(self, None, data)


def task_data(name_regex):
    """A LOCAL PUSH task that is valid apart from its name regex (defaults as the schema's)."""
    return {
        "name": "r1", "direction": "PUSH", "transport": "LOCAL", "ssh_credentials": None,
        "netcat_active_side": None, "netcat_active_side_listen_address": None,
        "netcat_active_side_port_min": None, "netcat_active_side_port_max": None,
        "netcat_passive_side_connect_address": None, "sudo": False,
        "source_datasets": ["tank/data"], "target_dataset": "backup/a", "recursive": False,
        "exclude": [], "properties": True, "properties_exclude": [], "properties_override": {},
        "replicate": False, "encryption": False, "encryption_inherit": None,
        "encryption_key": None, "encryption_key_format": None, "encryption_key_location": None,
        "periodic_snapshot_tasks": [], "naming_schema": [], "also_include_naming_schema": [],
        "name_regex": name_regex, "auto": False, "schedule": None, "restrict_schedule": None,
        "only_matching_schedule": False, "allow_from_scratch": False, "readonly": "SET",
        "hold_pending_snapshots": False, "retention_policy": "NONE", "lifetime_value": None,
        "lifetime_unit": None, "lifetimes": [], "compression": None, "speed_limit": None,
        "large_block": True, "embed": False, "compressed": True, "retries": 5,
        "logging_level": None, "enabled": True,
    }


def create_errors(gitdir, branch):
    exc = service_exception(gitdir, branch)
    service = FakeReplicationService(validate_function(gitdir, branch, exc), exc)
    out = {}
    for pattern in PATTERNS:
        child = asyncio.run(service.validate(task_data(pattern)))
        verrors = exc.ValidationErrors()
        verrors.add_child("replication_create", child)
        out[pattern] = [f"[EINVAL] {a}: {m}" for a, m, _ in verrors]
    return out


def zettarepl_module(gitdir, path, extra=None):
    return load_module(path, git_show(gitdir, "HEAD", path), extra)


def count_eligible_errors(zgit):
    name_pattern = zettarepl_module(zgit, "zettarepl/replication/task/name_pattern.py")
    out = {}
    for pattern in PATTERNS:
        try:
            name_pattern.compile_name_regex(pattern)
            out[pattern] = None
        except Exception as e:
            # zettarepl.py `count_eligible_manual_snapshots`: `CallError(f"Invalid `name_regex`: {e}")`
            out[pattern] = f"Invalid `name_regex`: {e}"
    return out


def runs(zgit):
    name_pattern = zettarepl_module(zgit, "zettarepl/replication/task/name_pattern.py")
    source = git_show(zgit, "HEAD", "zettarepl/replication/snapshots_to_send.py")
    tree = ast.parse(source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef)
              and n.name == "get_snapshots_to_send_with_name_pattern")
    # The function's annotations name these; they are not called.
    namespace = {"ReplicationTask": object, "Shell": object}
    from collections import namedtuple
    namespace["SnapshotsToSend"] = namedtuple(
        "SnapshotsToSend", ["incremental_base", "snapshots", "include_intermediate", "empty_is_successful"])
    out = []
    for pattern, src, dst in RUNS:
        snapshots = [types.SimpleNamespace(name=n) for n in src]
        namespace["list_snapshots"] = lambda shell, dataset, recursive, order, s=snapshots: s
        exec(compile(ast.Module(body=[fn], type_ignores=[]), "snapshots_to_send", "exec"), namespace)
        task = types.SimpleNamespace(name_pattern=name_pattern.compile_name_regex(pattern))
        result = namespace["get_snapshots_to_send_with_name_pattern"](src, dst, task, None, "tank/data")
        out.append({
            "pattern": pattern, "source": src, "target": dst,
            "incremental_base": result.incremental_base, "snapshots": result.snapshots,
            "include_intermediate": result.include_intermediate,
        })
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--middleware", required=True)
    parser.add_argument("--zettarepl", required=True)
    args = parser.parse_args()
    result = {
        "python": sys.version.split()[0],
        "replication.create": {v: create_errors(args.middleware, b) for v, b in BRANCHES.items()},
        "count_eligible_manual_snapshots": count_eligible_errors(args.zettarepl),
        "runs": runs(args.zettarepl),
    }
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
