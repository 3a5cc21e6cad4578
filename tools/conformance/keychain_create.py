#!/usr/bin/env python3
"""Runs a release's real `keychaincredential.create` (its `@accepts` schema, `_validate` and
the credential types' own checks) against a fake middleware, and prints what midclt would
print for each case.

The fake middleware answers the two calls `create` makes: `keychaincredential.query` (the
name-uniqueness check, filtered by the middleware's own `filter_list` over one existing key
pair named `backup`) and `datastore.insert`. Third-party modules the plugin imports but these
paths never use are replaced by empty stand-ins (`stubs.py`). `ssh-keygen` must be installed:
the key pair checks run it.

13.3 and 24.04 only (24.10's `create` is 24.04's code; from 25.04 pydantic models check the
arguments before the method runs, which this harness does not drive).

See README.md.
"""

import argparse
import asyncio
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Modules stood in for, by release: never reached by `create`.
STUBS = {
    "13.3": ["prctl", "middlewared.apidocs", "middlewared.sqlalchemy", "aiohttp", "bsd",
             "setproctitle", "sentry_sdk", "aiohttp_wsgi", "systemd", "zettarepl"],
    "24.04": ["prctl", "middlewared.apidocs", "middlewared.sqlalchemy", "ldap", "remote_pdb",
              "aiohttp", "psutil", "setproctitle", "anyio", "systemd", "zettarepl"],
}

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKPfJWYisgodW5TMELzVqvQsoZY0gmGb+ss4sw52GI+K"

CASES = [
    # The name is taken and the type is unknown.
    {"name": "backup", "type": "SSH_PASSWORD", "attributes": {}},
    # The name is taken and the attributes lack `host`.
    {"name": "backup", "type": "SSH_CREDENTIALS",
     "attributes": {"private_key": 1, "remote_host_key": KEY}},
    # The name is taken and the public key is not one.
    {"name": "backup", "type": "SSH_KEY_PAIR", "attributes": {"public_key": "not a key"}},
    # A new name, and the public key is not one.
    {"name": "k2", "type": "SSH_KEY_PAIR", "attributes": {"public_key": "not a key"}},
    # A new name, a key pair id that does not exist.
    {"name": "c2", "type": "SSH_CREDENTIALS",
     "attributes": {"host": "192.0.2.30", "private_key": 99, "remote_host_key": KEY}},
    # A new name, and neither key.
    {"name": "k3", "type": "SSH_KEY_PAIR", "attributes": {}},
    # No type at all.
    {"name": "c3", "attributes": {}},
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--release", required=True, choices=sorted(STUBS))
    ap.add_argument("--middleware", required=True, help="checkout of the release's middleware")
    args = ap.parse_args()

    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(args.middleware, "src", "middlewared"))
    import stubs
    stubs.stub(*STUBS[args.release])

    import middlewared.plugins.keychain as keychain
    try:
        from middlewared.utils.filter_list import filter_list
    except ImportError:
        from middlewared.utils import filter_list
    from middlewared.service_exception import ValidationErrors

    existing = [{"id": 1, "name": "backup", "type": "SSH_KEY_PAIR",
                 "attributes": {"private_key": None, "public_key": KEY}}]

    class Middleware:
        async def call(self, method, *params, **kwargs):
            if method == "keychaincredential.query":
                return filter_list(existing, *params)
            if method == "datastore.insert":
                return 2
            raise AssertionError(f"unexpected call {method}")

        def call_sync(self, method, *params, **kwargs):
            return asyncio.run(self.call(method, *params))

        def event_register(self, *args, **kwargs):
            pass

    service = keychain.KeychainCredentialService(Middleware())

    for data in CASES:
        print(f"== {args.release}: keychaincredential.create {json.dumps(data)}")
        try:
            result = asyncio.run(service.do_create(json.loads(json.dumps(data))))
        except ValidationErrors as e:
            # What midclt prints for validation errors: one `[ERRNAME] attribute: message`
            # line each (`ALL` without an attribute).
            for attribute, message, errno_ in e:
                name = __import__("errno").errorcode.get(errno_, "EUNKNOWN")
                print(f"[{name}] {attribute or 'ALL'}: {message}")
        except AttributeError as e:
            # 24.x checks the result against `@returns`, whose `Patch` the real middleware
            # resolves at start-up; reaching it means `create` accepted the call.
            if "'Patch' object has no attribute 'clean'" not in str(e):
                raise
            print("created (result not checked against @returns here)")
        except Exception as e:
            # CORE's schema layer raises its first error; midclt prints `str(e)` and a
            # traceback ending in the class.
            print(f"{e}\n... {type(e).__module__}.{type(e).__qualname__}: {e}")
        else:
            print(f"created: {json.dumps(result)}")


if __name__ == "__main__":
    main()
