#!/usr/bin/env python3
"""Sanity check of the oracle on the full real datasets (not only the excerpts).

Usage: sanity.py [DATASET_DIR]   (default /work/shared/datasets/real)

For every real file prints: records; oracle results with term `msiexec` and
with term `exe` (match / error reasons); and, with no token test at all, the
number of Sysmon EID1 records and of those whose parent passes the rule's
regex unanchored (re.search, the rule) and anchored (re.fullmatch, the
counting rule used in PROVENANCE.md), with the parent basenames that differ.
"""
import collections
import gzip
import os
import sys
import tarfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402

FILES = [
    ("F2", "otrf_LSASS_campaign_01_metasploit_logonpasswords_lsass_memory_dump.zip"),
    ("F3", "otrf_empire_dcom_shellwindows_stager.zip"),
    ("F4", "otrf_empire_scm_dll_hijack_ikeext_winlogbeat6.tar.gz"),
    ("F5", "otrf_remoteinteractive_taskmngr_lsass_dump_winlogbeat7.tar.gz"),
    ("F6", "otrf_sd2_WORKSTATION6_sysmon_LSASSMemoryDump-RDPTaskManager.jsonl.gz"),
    ("F7", "sigma_regression_data_events.jsonl"),
]


def read_lines(path, keep_cr=False):
    """Lines (bytes, see oracle.split_records) of every .json member of the file."""
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            for n in sorted(z.namelist()):
                if n.endswith(".json") and not n.startswith("__MACOSX"):
                    yield from oracle.split_records(z.read(n), keep_cr)
    elif path.endswith(".tar.gz"):
        with tarfile.open(path, "r:gz") as t:
            for m in sorted(t.getmembers(), key=lambda m: m.name):
                if m.isfile() and m.name.endswith(".json") and "__MACOSX" not in m.name:
                    yield from oracle.split_records(t.extractfile(m).read(), keep_cr)
    elif path.endswith(".gz"):
        with gzip.open(path) as fh:
            yield from oracle.split_records(fh.read(), keep_cr)
    else:
        with open(path, "rb") as fh:
            yield from oracle.split_records(fh.read(), keep_cr)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/datasets/real"
    for tag, name in FILES:
        n = 0
        res = {"msiexec": collections.Counter(), "exe": collections.Counter()}
        tok = collections.Counter()
        eid1 = search = full = 0
        diff = collections.Counter()
        for raw in read_lines(os.path.join(d, name)):
            n += 1
            for term, c in res.items():
                tok[term] += oracle.has_token(raw, term)
                r = oracle.evaluate(raw, term)
                c[r["result"] + ("" if "reason" not in r else ":" + r["reason"])] += 1
            v = oracle.parse_record(raw)
            if isinstance(v, str) or not oracle.is_sysmon(v) or not oracle.is_eid1(v):
                continue
            eid1 += 1
            p = v.field("ParentImage")
            if p is None:
                continue
            b = oracle.basename(p)
            s = bool(oracle.PARENT_RE.search(b))
            f = bool(oracle.PARENT_RE.fullmatch(b))
            search += s
            full += f
            if s != f:
                diff[b] += 1
        print(f"{tag} {name}: records={n}")
        for term, c in res.items():
            print(f"  term={term}: token in {tok[term]} records; results: "
                  + ", ".join(f"{k}={v}" for k, v in sorted(c.items())))
        print(f"  sysmon EID1={eid1}  susp. parent: unanchored(search)={search} anchored(fullmatch)={full}"
              + (f"  only-unanchored: {dict(diff)}" if diff else ""))


if __name__ == "__main__":
    main()
