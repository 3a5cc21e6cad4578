"""Runs the conformance cases of one middleware branch through the middleware's own code and
prints what `midclt call` would print for each, one JSON object a line.

    python run.py BRANCH SRC [EXTRA_PATH ...]

BRANCH is a key of `cases.CASES` (core133, dragonfish, electriceel, fangtooth, goldeye); SRC a checkout (or
`git archive`) of that branch of the middleware; EXTRA_PATH directories holding the
`zettarepl` and `truenas_api_client` packages. See README.md.
"""

import asyncio
import inspect
import json
import sys
import traceback

import mwload


class Reached(Exception):
    """The method got past its validation and tried to store or change something."""


class FakeApp:
    """A caller authenticated as a full admin (no role restrictions apply)."""

    class authenticated_credentials:
        @staticmethod
        def has_role(role):
            return False


class FakeMiddleware:
    """Answers the `middleware.call` names a case lists; anything that would change the
    system raises `Reached`, anything unlisted is a harness error."""

    def __init__(self, answers):
        self.answers = answers

    def _answer(self, name, args):
        if name in self.answers:
            a = self.answers[name]
            return a(*args) if callable(a) else a
        if name.startswith("datastore.") and name != "datastore.query":
            raise Reached(name)
        raise LookupError(f"the case does not say what {name} answers")

    async def call(self, name, *args, **kwargs):
        r = self._answer(name, args)
        return await r if inspect.isawaitable(r) else r

    def call_sync(self, name, *args, **kwargs):
        r = self._answer(name, args)
        return asyncio.run(r) if inspect.isawaitable(r) else r

    def send_event(self, *args, **kwargs):
        pass


def client_validation_errors(branch):
    """The client class midclt prints a ValidationErrors with, in the branch's release."""
    if branch in ("core133", "dragonfish"):
        from middlewared.client import ValidationErrors
    else:
        from truenas_api_client import ValidationErrors
    return ValidationErrors


def render(branch, exc):
    """stdout, stderr and exit status as midclt prints them (the traceback of a
    non-validation error is reduced to its first and last line)."""
    from middlewared.service_exception import ValidationErrors

    if exc is None:
        return {"outcome": "passed"}
    if isinstance(exc, Reached):
        return {"outcome": "passed", "reached": str(exc)}
    if isinstance(exc, ValidationErrors):
        client = client_validation_errors(branch)(list(exc))
        return {"stdout": "", "stderr": f"{client.error}\n", "exit": 1}
    formatted = "".join(traceback.format_exception(exc))
    return {
        "stdout": "",
        "stderr_first": str(exc) or repr(exc),
        "stderr_last": formatted.rstrip("\n").splitlines()[-1],
        "exit": 1,
    }


def run_case(branch, case):
    fake = FakeMiddleware(case.get("answers", {}))
    if case.get("snapshot_name_valid") is not None:
        # libzfs is C (py-libzfs over libzfs_core): its verdict on a name is part of the case.
        sys.modules["libzfs"].validate_snapshot_name = lambda name: case["snapshot_name_valid"]
    try:
        case["run"](fake, FakeApp())
        exc = None
    except Exception as e:  # the outcome under test, whatever it is
        exc = e
    import cases

    if isinstance(exc, cases.HarnessError) or (
        isinstance(exc, LookupError) and "the case does not say" in str(exc)
    ):
        raise exc
    return render(branch, exc)


def main():
    branch, src, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    mwload.load(src, extra)
    import cases

    for case in cases.CASES[branch]():
        out = {"id": case["id"], "branch": branch, "source": case["source"],
               "method": case["run"].method, "args": case["run"].args}
        out.update(run_case(branch, case))
        print(json.dumps(out))


if __name__ == "__main__":
    main()
