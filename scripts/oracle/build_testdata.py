#!/usr/bin/env python3
"""Builds every golden input under detector/testdata/: the real excerpts, the
derived shapes and the no-match corpus from the real datasets
(/work/shared/datasets/real), the synthetic cases (synthetic.py), then
regenerates every want.jsonl with the oracle (regen.py). Also writes
detector/testdata/golden-sources.json (which source lines each case holds).

Usage: build_testdata.py [--datasets DIR] [--out detector/testdata]

Deterministic: same datasets in, same bytes out. Records of the real cases are
copied byte-identical from the source lines; see detector/testdata/README.md.
"""
import argparse
import collections
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import oracle  # noqa: E402
import regen  # noqa: E402
import shapes  # noqa: E402
import synthetic  # noqa: E402
from sanity import FILES, read_lines  # noqa: E402

BUDGET = 119_000          # bytes per real input file (limit: < 120 KB)
MIN_RECORDS = 40
CASE_NAMES = {"F2": "f2-flat-lsass", "F3": "f3-flat-nxlog", "F4": "f4-winlogbeat6",
              "F5": "f5-winlogbeat7", "F6": "f6-flat-sd2", "F7": "f7-evtx-map"}


class Rec:
    def __init__(self, i, line):
        self.i = i
        self.line = line                      # the source line, byte for byte (CRLF kept)
        raw = line[:-1] if line.endswith(b"\r") else line
        self.raw = raw                        # the record as the oracle reads it
        self.size = len(line) + 1
        v = oracle.parse_record(raw)
        self.view = None if isinstance(v, str) else v
        self.bad = v if isinstance(v, str) else None
        self.host = self.view.host if self.view else None
        self.token = oracle.has_token(raw, "msiexec")
        self.exe = oracle.has_token(raw, "exe")
        self.cat = "bad"
        self.parent = None
        if self.view:
            e = self.view.event_id
            if isinstance(e, dict):
                e = e.get("#text")
            self.eid = e.text if isinstance(e, oracle.Num) else str(e)
            if not oracle.is_sysmon(self.view):
                self.cat = "nonsysmon"
            elif oracle.is_eid1(self.view):
                p = self.view.field("ParentImage")
                self.parent = oracle.basename(p).lower() if p else None
                self.cat = "eid1_susp" if p and oracle.PARENT_RE.search(oracle.basename(p)) else "eid1_other"
            else:
                self.cat = "other_exe" if self.exe else "other"


def select(recs):
    chosen = {}
    used = [0]

    def add(r):
        if r.i in chosen or used[0] + r.size > BUDGET:
            return False
        chosen[r.i] = r
        used[0] += r.size
        return True

    by = collections.defaultdict(list)
    for r in recs:
        by[r.cat].append(r)
    for k in by:
        by[k].sort(key=lambda r: (r.size, r.i))

    def distinct(cat, key, limit, pred=lambda r: True):
        seen = set(key(r) for r in chosen.values() if r.cat == cat)
        n = 0
        for r in by[cat]:
            if n >= limit:
                break
            if pred(r) and key(r) not in seen and add(r):
                seen.add(key(r))
                n += 1

    for r in recs:                                   # every msiexec token record
        if r.token:
            add(r)
    for r in by["bad"][:2]:                          # records of no shape
        add(r)
    for r in by["eid1_susp"]:                        # parents only the unanchored regex takes
        if not oracle.PARENT_RE.fullmatch(r.parent):
            add(r)
    distinct("eid1_susp", lambda r: r.parent, 99)    # one per suspicious parent
    hosts = sorted(set(r.host for r in recs if r.host))
    for h in hosts:                                  # every host at least once
        if not any(r.host == h for r in chosen.values()):
            cands = [r for c in ("eid1_susp", "eid1_other", "other_exe", "nonsysmon", "other")
                     for r in by[c] if r.host == h]
            for r in cands:
                if add(r):
                    break
    # small quotas of the other kinds first, then every suspicious-parent EID1
    # that fits, then more of the other kinds
    distinct("nonsysmon", lambda r: (r.view.channel, r.eid), 2, lambda r: r.exe)
    distinct("nonsysmon", lambda r: r.view.channel, 2)   # e.g. lowercase 'security'
    distinct("eid1_other", lambda r: r.parent, 3)
    distinct("other_exe", lambda r: r.eid, 5)
    distinct("other", lambda r: r.eid, 1)
    for r in by["eid1_susp"]:
        add(r)
    distinct("nonsysmon", lambda r: (r.view.channel, r.eid), 2, lambda r: r.exe)
    distinct("eid1_other", lambda r: r.parent, 3)
    distinct("other_exe", lambda r: r.eid, 4)
    distinct("other", lambda r: r.eid, 1)
    if len(chosen) < MIN_RECORDS:
        distinct("other_exe", lambda r: (r.eid, r.host), MIN_RECORDS - len(chosen))
    if len(chosen) < MIN_RECORDS:
        for r in by["other_exe"]:
            if len(chosen) >= MIN_RECORDS:
                break
            add(r)
    return [chosen[i] for i in sorted(chosen)]


def write_case(root, name, input_name, lines, term):
    d = os.path.join(root, "golden", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, input_name), "wb") as fh:
        for raw in lines:
            fh.write(raw + b"\n")
    with open(os.path.join(d, "rule.json"), "w") as fh:
        fh.write(json.dumps({"term": term}) + "\n")


# ---------------------------------------------------------------------------
# Derived shapes (evtx-list, winlogbeat-ecs, xml) from real F7 / F5 records

def ev_from_f7(o):
    e = o["Event"]
    s = e["System"]
    guid = s["Provider"]["#attributes"].get("Guid", "")
    return shapes.Ev(
        eid=s["EventID"], computer=s["Computer"],
        time=shapes.split_time(s["TimeCreated"]["#attributes"]["SystemTime"]),
        data=list(e["EventData"].items()), channel=s["Channel"],
        provider=s["Provider"]["#attributes"]["Name"], provider_guid="{%s}" % guid.lower(),
        version=s["Version"], level=s["Level"], task=s["Task"], opcode=s["Opcode"],
        keywords=s.get("Keywords", "0x8000000000000000"), record_id=s["EventRecordID"],
        exec_pid=s["Execution"]["#attributes"]["ProcessID"],
        exec_tid=s["Execution"]["#attributes"]["ThreadID"],
        user_sid=s["Security"]["#attributes"]["UserID"])


def ev_from_f5(o):
    w = o["winlog"]
    eid = w["event_id"]
    ed = w.get("event_data", {})
    order = shapes.SYSMON_ORDER.get(eid, [])
    data = [(k, ed[k]) for k in order if k in ed] + [(k, v) for k, v in ed.items() if k not in order]
    if "RuleName" not in ed and "\nRuleName: \n" in o.get("message", ""):
        data.insert(0, ("RuleName", ""))       # Winlogbeat drops empty values; the message shows it
    return shapes.Ev(
        eid=eid, computer=w["computer_name"], time=shapes.split_time(o["@timestamp"]),
        data=data, channel=w["channel"], provider=w["provider_name"],
        provider_guid=w.get("provider_guid", shapes.SYSMON_GUID), version=w.get("version", 5),
        level=4, task=eid, opcode=0, record_id=w["record_id"],
        exec_pid=w["process"]["pid"], exec_tid=w["process"]["thread"]["id"],
        user_sid=w.get("user", {}).get("identifier", "S-1-5-18"))


def pick_derived(f7, f5):
    """~30 real records: F7 EID1 (suspicious parents first, one per parent),
    F7 EID1 other parents, EID13, EID10; F5 EID1/EID13/EID10."""
    out = []

    def take(recs, cat, n, pred=lambda r: True, key=None):
        rs = sorted([r for r in recs if r.cat == cat and pred(r) and r not in out],
                    key=lambda r: (r.size, r.i))
        seen = set()
        k = 0
        for r in rs:
            if k >= n:
                break
            if key is not None:
                if key(r) in seen:
                    continue
                seen.add(key(r))
            out.append(r)
            k += 1

    f7 = [r for r in f7 if r.view and "#attributes" not in (json.loads(r.raw)["Event"].get("EventData") or {"#attributes": 1})]
    take(f7, "eid1_susp", 6, key=lambda r: r.parent)
    take(f7, "eid1_susp", 10, key=lambda r: r.host)
    take(f7, "eid1_susp", 16 - sum(1 for r in out if r.cat == "eid1_susp"))
    take(f7, "eid1_other", 4, key=lambda r: r.parent)
    take(f7, "other_exe", 4, pred=lambda r: r.eid == "13")
    take(f7, "other_exe", 2, pred=lambda r: r.eid == "10")
    n7 = len(out)
    take(f5, "eid1_susp", 2, key=lambda r: r.parent)
    take(f5, "eid1_other", 1)
    take(f5, "other_exe", 1, pred=lambda r: r.eid == "13")
    take(f5, "other_exe", 1, pred=lambda r: r.eid == "10")
    evs = []
    for k, r in enumerate(out):
        o = json.loads(r.raw)
        evs.append((("F7" if k < n7 else "F5"), r.i, ev_from_f7(o) if k < n7 else ev_from_f5(o)))
    # keep the sources' own order within each source
    evs.sort(key=lambda t: (t[0] != "F7", t[1]))
    return evs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="/work/shared/datasets/real")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "detector", "testdata"))
    a = ap.parse_args()
    root = os.path.normpath(a.out)
    manifest = {}
    allrecs = {}
    for tag, fname in FILES:
        recs = [Rec(i, line) for i, line in
                enumerate(read_lines(os.path.join(a.datasets, fname), keep_cr=True), 1)]
        allrecs[tag] = recs
        sel = select(recs)
        lines = [r.line for r in sel]
        for term, suffix in (("msiexec", "seed"), ("exe", "exe")):
            write_case(root, "%s-%s" % (CASE_NAMES[tag], suffix), "input.jsonl", lines, term)
        manifest[CASE_NAMES[tag]] = {
            "source": fname, "source_lines": [r.i for r in sel],
            "categories": dict(collections.Counter(r.cat for r in sel)),
            "bytes": sum(r.size for r in sel)}

    # F7 lines -> their file in SigmaHQ/sigma regression_data
    tsv = os.path.join(a.datasets, "sigma_regression_sources.tsv")
    if os.path.exists(tsv):
        with open(tsv, encoding="utf-8") as fh:
            rows = dict(line.rstrip("\n").split("\t", 1) for line in fh.readlines()[1:])
        manifest[CASE_NAMES["F7"]]["sigma_paths"] = [rows[str(i)] for i in manifest[CASE_NAMES["F7"]]["source_lines"]]

    evs = pick_derived(allrecs["F7"], allrecs["F5"])
    renders = {
        "derived-evtx-list": ("input.jsonl", lambda ev, src: shapes.dumps(shapes.to_evtx_list(ev))),
        "derived-winlogbeat-ecs": ("input.jsonl", lambda ev, src: shapes.dumps(shapes.to_ecs(
            ev, "WECServer" if src == "F5" else ev.computer.split(".")[0].lower()))),
        "derived-xml": ("input.xml.txt", lambda ev, src: shapes.to_xml(ev)),
    }
    for name, (inp, fn) in renders.items():
        lines = [fn(ev, src).encode("utf-8") for src, _, ev in evs]
        for term, suffix in (("msiexec", "seed"), ("exe", "exe")):
            write_case(root, "%s-%s" % (name, suffix), inp, lines, term)
        manifest[name] = {"source_lines": ["%s:%d" % (src, i) for src, i, _ in evs],
                          "bytes": sum(len(x) + 1 for x in lines)}
        if os.path.exists(tsv):
            manifest[name]["sigma_paths"] = [rows[str(i)] for src, i, _ in evs if src == "F7"]

    # no-match corpus: line-level random sample of every real format, shuffled
    rng = random.Random(20250101)
    per_format = {"F2": 560_000, "F3": 560_000, "F4": 560_000, "F5": 560_000, "F6": 560_000,
                  "F7": 10**9}
    corpus = []
    counts = {}
    for tag, _ in FILES:
        pool = [r for r in allrecs[tag]
                if not r.token and oracle.evaluate(r.raw, "msiexec")["result"] == "nomatch"]
        rng.shuffle(pool)
        got = 0
        n = 0
        for r in pool:
            if got + r.size > per_format[tag]:
                continue
            corpus.append(r.line)
            got += r.size
            n += 1
        counts[tag] = (n, got)
    rng.shuffle(corpus)
    with open(os.path.join(root, "nomatch-corpus.jsonl"), "wb") as fh:
        for raw in corpus:
            fh.write(raw + b"\n")
    manifest["nomatch-corpus"] = counts
    with open(os.path.join(root, "golden-sources.json"), "w") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
        fh.write("\n")
    synthetic.main()
    regen.main([root])


if __name__ == "__main__":
    main()
