#!/usr/bin/env python3
"""Python's verdict on many name regexes: for each pattern, `re.compile(f"({p})$")`'s error
text, or which of a fixed set of snapshot names `match` accepts. Patterns are drawn (with a
fixed seed) from fragments where Python's `re` and Rust's `regex` crate differ.

    python3.11 patterns.py > ../../../tests/data/name_regex_python.json
"""

import json
import random
import re
import sys
import warnings

warnings.simplefilter("ignore")  # FutureWarning on possible set operations

ANY = [
    "a", "b", "\\d", "\\w", "\\s", ".", "(", ")", "(?:", "(?=", "(?!", "(?<=", "(?<!", "(?P<n>",
    "(?P=n)", "(?>", "\\1", "\\2", "*", "+", "?", "{2}", "{,3}", "{1,}", "{3,1}", "{", "}", "[",
    "]", "[a-z]", "[^x]", "[\\d-]", "^", "$", "\\Z", "\\z", "\\A", "\\b", "|", "(?i)", "(?i:",
    "(?-i:", "(?x:", "\\q", "\\x4", "\\x41", "\\u00e9", "\\0", "\\07", "\\8", "\\.", "-", "_",
    "(?#c)", "(?(1)a|b)", "(?P<1>", "\\N{DIGIT ZERO}", "*?", "+?", "++", "?+", "[]a]", "[a-]",
    "(?s:.)", "(?m:^a)", "(?a:\\w)", "(?L)", "(?<n>", "\\k<n>", "\\p{L}", "\\",
]
VALID = [
    "a", "b", "\\d", "\\w", ".", "(?:a|b)", "(?=a)", "(?!b)", "(?<=a)", "(?<!b)", "(a)", "\\1",
    "*", "+", "?", "{2}", "{,3}", "[a-z]", "[^x]", "^", "$", "\\Z", "\\b", "|", "(?i:A)",
    "(?>a*)", "a++", "(?(1)a|b)", "[]a]", "(?s:.)", "é", "\\u00e9", "\\x41", "1", "(?a:\\w)",
]
NAMES = ["a", "ab", "aa", "abc", "a1", "auto-1", "x", "", "a\n", "AB", "é", "0", "b1a"]


def main():
    rng = random.Random(7)
    patterns = set()
    while len(patterns) < 700:
        patterns.add("".join(rng.choice(ANY) for _ in range(rng.randint(1, 5))))
    while len(patterns) < 1500:
        patterns.add("".join(rng.choice(VALID) for _ in range(rng.randint(1, 6))))
    cases = []
    for p in sorted(patterns):
        try:
            r = re.compile(f"({p})$")
        except Exception as e:
            cases.append([p, "error", str(e)])
        else:
            cases.append([p, "match", "".join("1" if r.match(n) else "0" for n in NAMES)])
    json.dump({"python": sys.version.split()[0], "names": NAMES, "cases": cases}, sys.stdout,
              indent=0, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
