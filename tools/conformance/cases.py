"""The conformance cases, per middleware branch: each calls a public method's real entry
point (its `@accepts` / `@api_method` wrapper, then the plugin body) on a service object
whose `middleware` is a fake, and `run.py` prints what midclt would show.

A case's `source` names the branch, file and function whose code decides the outcome; the
Rust tests (`tests/sim_conformance_schema.rs`) carry the printed results.
"""

import asyncio
import importlib
import logging


class HarnessError(Exception):
    """The harness could not set a case up: never a case's outcome."""

ST_OK = {
    "dataset": "tank/data",
    "recursive": False,
    "lifetime_value": 2,
    "lifetime_unit": "WEEK",
    "naming_schema": "auto-%Y-%m-%d_%H-%M",
}
REPL_OK = {
    "name": "r1",
    "direction": "PUSH",
    "transport": "LOCAL",
    "source_datasets": ["tank/data"],
    "target_dataset": "backup/a",
    "recursive": False,
    "auto": False,
    "retention_policy": "NONE",
}


def with_(base, **extra):
    d = dict(base)
    d.update(extra)
    return d


def without(base, key):
    return {k: v for k, v in base.items() if k != key}


def service(module, cls, fake):
    """The plugin's service object, with the fake middleware and no `__init__` side effects."""
    try:
        klass = getattr(importlib.import_module(module), cls)
    except Exception as e:
        raise HarnessError(f"cannot load {module}.{cls}") from e
    svc = klass.__new__(klass)
    svc.middleware = fake
    svc.logger = logging.getLogger(cls)
    return svc


def call(module, cls, method, *args, app=False):
    """A runner: the public method as the middleware dispatches it (wrapper included); `app`
    when the method may take the calling connection (`@pass_app`, 24.04 on)."""

    def run(fake, fake_app):
        svc = service(module, cls, fake)
        fn = getattr(svc, method)
        # The middleware passes the connection to methods marked `_pass_app` (main.py).
        full = (fake_app, *args) if app and hasattr(fn, "_pass_app") else args
        r = fn(*full)
        if asyncio.iscoroutine(r):
            asyncio.run(r)

    return run


def public(method, args, run):
    """Labels a runner with the public call it stands for (what the Rust test sends)."""
    run.method = method
    run.args = args
    return run


def snapshottask(data):
    return public("pool.snapshottask.create", [data], call(
        "middlewared.plugins.snapshot", "PeriodicSnapshotTaskService", "do_create", data))


def replication(data):
    return public("replication.create", [data], call(
        "middlewared.plugins.replication", "ReplicationService", "do_create", data, app=True))


def keychain(data):
    return public("keychaincredential.create", [data], call(
        "middlewared.plugins.keychain", "KeychainCredentialService", "do_create", data))


def pool_snapshot(data):
    """`pool.snapshot.create`: the pydantic union, then `zfs.snapshot.create`'s own checks
    (run for real: the fake middleware forwards the call to that plugin)."""

    def run(fake, fake_app):
        zfs = service("middlewared.plugins.zfs_.snapshot", "ZFSSnapshotService", fake)
        fake.answers["zfs.snapshot.create"] = zfs.create
        call("middlewared.plugins.pool_.snapshot", "PoolSnapshotService", "do_create", data)(fake, fake_app)

    return public("pool.snapshot.create", [data], run)


ST_ANSWERS = {
    # The datasets of the simulator's `nas1` fixture (the Rust tests run against it).
    "pool.filesystem_choices": ["tank", "tank/data", "tank/data/photos", "tank/data/scratch"],
    "pool.snapshottask.query": [],
}
REPL_ANSWERS = {
    "replication.query": [],
    "pool.snapshottask.query": [],
    "keychaincredential.get_of_type": {},
}
KC_ANSWERS = {"keychaincredential.query": []}


def case(id_, source, run, answers=None, snapshot_name_valid=None):
    """`snapshot_name_valid`: what libzfs's C name check (not runnable here) answers."""
    return {"id": id_, "source": source, "run": run, "answers": dict(answers or {}),
            "snapshot_name_valid": snapshot_name_valid}


def old_schedule_cases(branch, prefix):
    """The `Cron(begin_end=True)` and `Time` attributes of the old schema layer."""
    src = f"{branch}:src/middlewared/middlewared/schema/"
    return [
        case(f"{prefix}_begin_hour_25", src + "string_schema.py::Time.clean",
             prefix_run(prefix, {"begin": "25:00"}), answers_for(prefix)),
        case(f"{prefix}_begin_no_colon", src + "string_schema.py::Time.clean",
             prefix_run(prefix, {"begin": "1200"}), answers_for(prefix)),
        case(f"{prefix}_begin_letters", src + "string_schema.py::Time.clean",
             prefix_run(prefix, {"begin": "ab:cd"}), answers_for(prefix)),
        case(f"{prefix}_end_minute_60", src + "string_schema.py::Time.clean",
             prefix_run(prefix, {"end": "12:60"}), answers_for(prefix)),
        case(f"{prefix}_begin_null", src + "attribute.py::Attribute.clean",
             prefix_run(prefix, {"begin": None}), answers_for(prefix)),
        case(f"{prefix}_window_reversed", src + "dict_schema.py::Cron.validate",
             prefix_run(prefix, {"begin": "18:00", "end": "06:00"}), answers_for(prefix)),
        case(f"{prefix}_window_missed", src + "dict_schema.py::Cron.validate",
             prefix_run(prefix, {"minute": "0", "hour": "5", "begin": "06:00", "end": "07:00"}),
             answers_for(prefix)),
        case(f"{prefix}_unexpected_key", src + "dict_schema.py::Dict.clean",
             prefix_run(prefix, {"second": "0"}), answers_for(prefix)),
    ]


def prefix_run(prefix, schedule):
    if prefix == "st":
        return snapshottask(with_(ST_OK, schedule=schedule))
    return replication(with_(REPL_OK, auto=True, schedule=schedule))


def answers_for(prefix):
    return ST_ANSWERS if prefix == "st" else REPL_ANSWERS


def old_replication_cases(branch):
    """Range, Port, Unique and non-empty list texts, and the plugin's indexed rules."""
    v = f"{branch}:src/middlewared/middlewared/validators.py::"
    s = f"{branch}:src/middlewared/middlewared/schema/list_schema.py::List.clean"
    p = f"{branch}:src/middlewared/middlewared/plugins/replication.py::ReplicationService._validate"
    a = REPL_ANSWERS
    return [
        case("repl_retries_0", v + "Range.__call__", replication(with_(REPL_OK, retries=0)), a),
        case("repl_speed_limit_0", v + "Range.__call__",
             replication(with_(REPL_OK, transport="SSH", ssh_credentials=1, speed_limit=0)), a),
        case("repl_port_0", v + "Port", replication(with_(
            REPL_OK, transport="SSH+NETCAT", ssh_credentials=1, netcat_active_side="LOCAL",
            netcat_active_side_port_min=0)), a),
        case("repl_port_70000_and_retries_0", v + "Range.__call__", replication(with_(
            REPL_OK, transport="SSH+NETCAT", ssh_credentials=1, netcat_active_side="LOCAL",
            netcat_active_side_port_max=70000, retries=0)), a),
        case("repl_source_missing", s, replication(without(REPL_OK, "source_datasets")), a),
        case("repl_source_empty", s, replication(with_(REPL_OK, source_datasets=[])), a),
        case("repl_empty_object", f"{branch}:src/middlewared/middlewared/schema/dict_schema.py::Dict.get_defaults",
             replication({}), a),
        case("repl_tasks_duplicate", v + "Unique.__call__",
             replication(with_(REPL_OK, periodic_snapshot_tasks=[1, 1])), a),
        case("repl_exclude_index", p, replication(with_(
            REPL_OK, recursive=True, exclude=["tank/data/photos", "other/x"], also_include_naming_schema=["a-%Y%m%d%H%M"])), a),
        case("repl_naming_schema_index", f"{branch}:src/middlewared/middlewared/schema/list_schema.py::List.validate",
             replication(with_(REPL_OK, direction="PULL", naming_schema=["auto-%Y-%m-%d_%H-%M", "bad"])), a),
        case("repl_lifetimes_item", f"{branch}:src/middlewared/middlewared/schema/list_schema.py::List.clean",
             replication(with_(REPL_OK, retention_policy="CUSTOM", lifetimes=[
                 {"schedule": {"hour": "1"}, "lifetime_value": 1, "lifetime_unit": "DAY"},
                 {"schedule": {"hour": "2"}, "lifetime_value": 1}])), a),
        case("repl_lifetimes_item_value", f"{branch}:src/middlewared/middlewared/schema/list_schema.py::List.validate",
             replication(with_(REPL_OK, retention_policy="CUSTOM", lifetimes=[
                 {"schedule": {"hour": "1"}, "lifetime_value": 1, "lifetime_unit": "DAY"},
                 {"schedule": {"hour": "2"}, "lifetime_value": 0, "lifetime_unit": "DAY"}])), a),
        case("repl_source_item_type", s, replication(with_(REPL_OK, source_datasets=["tank/data", 5])), a),
        case("repl_lifetime_0", v + "Range.__call__", replication(with_(
            REPL_OK, retention_policy="CUSTOM", lifetime_value=0, lifetime_unit="DAY")), a),
    ]


def old_snapshottask_cases(branch):
    p = f"{branch}:src/middlewared/middlewared/plugins/snapshot.py::PeriodicSnapshotTaskService._validate"
    return [
        case("st_exclude_index", p, snapshottask(with_(
            ST_OK, recursive=True, exclude=["tank/data/photos", "other/b"])), ST_ANSWERS),
    ]


def pyd_snapshottask_cases(branch, models):
    m = f"{branch}:src/middlewared/middlewared/api/{models}/pool_snapshottask.py"
    return [
        case("st_pyd_begin_hour_25", m + "::PoolSnapshotTaskCron",
             snapshottask(with_(ST_OK, schedule={"begin": "25:00"})), ST_ANSWERS),
        case("st_pyd_begin_letters", m + "::PoolSnapshotTaskCron",
             snapshottask(with_(ST_OK, schedule={"begin": "ab:cd"})), ST_ANSWERS),
        case("st_pyd_window_reversed", m + "::PoolSnapshotTaskCron",
             snapshottask(with_(ST_OK, schedule={"begin": "18:00", "end": "06:00"})), ST_ANSWERS),
        case("st_pyd_window_missed", m + "::PoolSnapshotTaskCron",
             snapshottask(with_(ST_OK, schedule={"minute": "0", "hour": "5", "begin": "06:00", "end": "07:00"})),
             ST_ANSWERS),
        case("st_pyd_missing_and_extra", m + "::PoolSnapshotTaskCreate",
             snapshottask({"zzz": 1, "naming_schema": "auto-%Y-%m-%d_%H-%M", "aaa": 2}), ST_ANSWERS),
        case("st_pyd_lifetime_0", m + "::PoolSnapshotTaskCreate",
             snapshottask(with_(ST_OK, lifetime_value=0)), ST_ANSWERS),
    ]


def keychain_cases(branch, models):
    m = f"{branch}:src/middlewared/middlewared/api/{models}/keychain.py::KeychainCredentialCreateArgs"
    return [
        case("kc_union_bad_key_type", m, keychain(
            {"name": "k", "type": "SSH_KEY_PAIR", "attributes": {"private_key": 5}}), KC_ANSWERS),
        case("kc_union_unknown_type", m, keychain(
            {"name": "k", "type": "NOPE", "attributes": {}}), KC_ANSWERS),
        case("kc_union_missing_attributes", m, keychain({"name": "k", "type": "SSH_CREDENTIALS"}), KC_ANSWERS),
    ]


def dragonfish():
    return [*old_schedule_cases("stable/dragonfish", "st"), *old_schedule_cases("stable/dragonfish", "repl"),
            *old_replication_cases("stable/dragonfish"), *old_snapshottask_cases("stable/dragonfish")]


def electriceel():
    return [*old_schedule_cases("stable/electriceel", "st"), *old_replication_cases("stable/electriceel"),
            *old_snapshottask_cases("stable/electriceel")]


def fangtooth():
    return [*old_schedule_cases("stable/fangtooth", "repl"), *old_replication_cases("stable/fangtooth"),
            *pyd_snapshottask_cases("stable/fangtooth", "v25_04_2"), *keychain_cases("stable/fangtooth", "v25_04_2")]


def goldeye():
    b = "stable/goldeye"
    r = f"{b}:src/middlewared/middlewared/api/v25_10_0/replication.py::ReplicationCreate"
    ps = f"{b}:src/middlewared/middlewared/api/v25_10_0/pool_snapshot.py::PoolSnapshotCreateArgs"
    zs = f"{b}:src/middlewared/middlewared/plugins/zfs_/snapshot.py::ZFSSnapshotService.create"
    ok = {"dataset": "tank/data", "name": "manual-1"}
    return [
        *pyd_snapshottask_cases(b, "v25_10_0"),
        *keychain_cases(b, "v25_10_0"),
        case("repl_pyd_missing_and_extra", r, replication(
            {"zzz": 1, "name": "r1", "aaa": 2, "recursive": False}), REPL_ANSWERS),
        case("repl_pyd_retries_0", r, replication(with_(REPL_OK, retries=0)), REPL_ANSWERS),
        case("repl_pyd_window_reversed", r, replication(
            with_(REPL_OK, auto=True, schedule={"begin": "18:00", "end": "06:00"})), REPL_ANSWERS),
        case("repl_pyd_window_missed", r, replication(with_(
            REPL_OK, auto=True, schedule={"minute": "0", "hour": "5", "begin": "06:00", "end": "07:00"})),
            REPL_ANSWERS),
        case("repl_pyd_begin_no_colon", r, replication(
            with_(REPL_OK, auto=True, schedule={"begin": "1200"})), REPL_ANSWERS),
        case("repl_pyd_begin_hour_25", r, replication(
            with_(REPL_OK, auto=True, schedule={"begin": "25:00"})), REPL_ANSWERS),
        case("repl_pyd_naming_schema_index", r, replication(with_(
            REPL_OK, direction="PULL", naming_schema=["auto-%Y-%m-%d_%H-%M", "bad"]))),
        case("ps_union_both", ps, pool_snapshot(with_(ok, naming_schema="auto-%Y-%m-%d_%H-%M"))),
        case("ps_union_neither", ps, pool_snapshot({"dataset": "tank/data"})),
        case("ps_union_bad_type", ps, pool_snapshot(with_(ok, recursive="yes"))),
        case("ps_exclude_not_recursive", zs, pool_snapshot(with_(ok, exclude=["tank/data/photos"])),
             snapshot_name_valid=True),
        case("ps_exclude_with_properties", zs, pool_snapshot(
            with_(ok, recursive=True, exclude=["tank/data/photos"], properties={"a:b": "c"})),
            snapshot_name_valid=True),
        case("ps_exclude_with_properties_bad_name", zs, pool_snapshot(
            with_(ok, name="a@b", exclude=["tank/data/photos"], properties={"a:b": "c"})),
            snapshot_name_valid=False),
        case("ps_invalid_name", zs, pool_snapshot(with_(ok, name="a@b")), snapshot_name_valid=False),
    ]


def core133():
    b = "truenas/13.3-stable"
    return [*old_schedule_cases(b, "st"), *old_schedule_cases(b, "repl"), *old_replication_cases(b),
            *old_snapshottask_cases(b)]


CASES = {"core133": core133, "dragonfish": dragonfish, "electriceel": electriceel, "fangtooth": fangtooth, "goldeye": goldeye}
