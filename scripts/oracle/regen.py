#!/usr/bin/env python3
"""Regenerates want.jsonl of every golden case with the oracle.

Usage: regen.py [TESTDATA_DIR]   (default detector/testdata next to this repo's scripts/)

For each detector/testdata/golden/<case>/ it runs, in effect,
    python3 scripts/oracle/oracle.py <case>/input.jsonl --rule <case>/rule.json -o <case>/want.jsonl
(input.xml.txt instead of input.jsonl for XML cases) and prints a summary line per case.
"""
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import oracle  # noqa: E402


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    root = argv[0] if argv else os.path.join(HERE, "..", "..", "detector", "testdata")
    gold = os.path.join(root, "golden")
    for case in sorted(os.listdir(gold)):
        d = os.path.join(gold, case)
        inputs = [n for n in ("input.jsonl", "input.xml.txt") if os.path.exists(os.path.join(d, n))]
        if len(inputs) != 1:
            raise SystemExit("%s: need exactly one of input.jsonl / input.xml.txt" % d)
        oracle.main([os.path.join(d, inputs[0]), "--rule", os.path.join(d, "rule.json"),
                     "-o", os.path.join(d, "want.jsonl")])
        c = collections.Counter()
        with open(os.path.join(d, "want.jsonl"), encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                c[r["result"] + (":" + r["reason"] if "reason" in r else "")] += 1
        n = sum(c.values())
        print("%-32s %4d records  %s" % (case, n, ", ".join("%s=%d" % kv for kv in sorted(c.items()))))


if __name__ == "__main__":
    main()
