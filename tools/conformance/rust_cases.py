"""Turns `run.py`'s output into the case table of `tests/sim_conformance_schema.rs`.

    python rust_cases.py out-*.jsonl > table.rs

Each entry keeps the case id, the release the branch ships as, the call, the source it was
produced from, and what midclt prints.
"""

import json
import sys

RELEASE = {"core133": "13.3", "dragonfish": "24.04", "electriceel": "24.10", "fangtooth": "25.04", "goldeye": "25.10"}


def rust_str(s):
    """A Rust raw string literal that can hold `s`."""
    hashes = "#"
    while f'"{hashes}' in s:
        hashes += "#"
    return f'r{hashes}"{s}"{hashes}'


def main():
    for path in sys.argv[1:]:
        for line in open(path):
            c = json.loads(line)
            args = json.dumps(c["args"][0], separators=(",", ":"))
            if c.get("outcome") == "passed":
                expect = "Expect::Accepted"
            elif "stderr" in c:
                expect = f"Expect::Errors({rust_str(c['stderr'])})"
            else:
                expect = (f"Expect::Traceback {{ first: {rust_str(c['stderr_first'])}, "
                          f"last: {rust_str(c['stderr_last'])} }}")
            print(f"        // {c['id']}: produced by running {c['source']}")
            print(f"        case(\"{RELEASE[c['branch']]}\", \"{c['method']}\", {rust_str(args)}, {expect}),")


if __name__ == "__main__":
    main()
