#!/usr/bin/env python3
"""Independent reference implementation (test oracle) of msiguard's detector rule.

It exists only to produce the expected outputs (want.jsonl) of the golden tests
under detector/testdata/golden/. It shares no code with the Go detector and uses
only the Python 3 standard library.

Usage:
    oracle.py INPUT [--term TERM | --rule RULE.json] [-o OUTPUT]

INPUT holds one record per line (JSON or raw XML). OUTPUT (default stdout) gets
one JSON line per input line, see format_result(). The rule is the seed rule
"Suspicious Parent Process for msiexec.exe" (Splunk SPL, rule id 24143.44553);
--term replaces its token `msiexec` with another one (e.g. `exe`) so that real
records without msiexec exercise the whole evaluation path.

Semantics implemented (see scripts/oracle/README.md for the full list of the
ambiguities resolved here):

 1. token test on the raw line bytes (ASCII case-insensitive, Splunk breakers);
 2. parse: first non-whitespace byte '<' -> XML, else JSON;
    not decodable/well-formed -> error malformed; no shape -> error unknown_shape;
 3. Sysmon channel/provider (when named), event id 1, parent regex (unanchored)
    on the add-on basename of ParentImage;
 4. host (missing_host), time (bad_time), output fields.
"""

import argparse
import calendar
import datetime
import json
import re
import sys
import xml.etree.ElementTree as ET

DEFAULT_TERM = "msiexec"

# ---------------------------------------------------------------------------
# 1. Token test (Splunk default segmenters, on raw bytes)

MAJOR_BREAKERS = b"[]<>(){}|!;,'\"*\n\r \t&?+"
MINOR_BREAKERS = b"/:=@.-$#%\\_"
BREAKERS = frozenset(MAJOR_BREAKERS + MINOR_BREAKERS)
# URL-encoded major breakers after which a token may start (hex any case).
URL_MAJOR = frozenset(
    x.lower()
    for x in (b"%21", b"%26", b"%3B", b"%7C", b"%20", b"%2B", b"%3D", b"%5D",
              b"%5B", b"%3A", b"%0A", b"%2C", b"%28", b"%29")
)


_LOWER = bytes(c + 32 if 65 <= c <= 90 else c for c in range(256))


def _ascii_lower(b):
    return b.translate(_LOWER)


def has_token(raw, term):
    """True when `term` occurs in raw (bytes) as a Splunk token, any ASCII case."""
    t = _ascii_lower(term.encode("ascii"))
    low = _ascii_lower(raw)
    n = len(t)
    i = low.find(t)
    while i >= 0:
        left_ok = (
            i == 0
            or low[i - 1] in BREAKERS
            or (i >= 3 and low[i - 3:i] in URL_MAJOR)
        )
        j = i + n
        right_ok = j == len(low) or low[j] in BREAKERS
        if left_ok and right_ok:
            return True
        i = low.find(t, i + 1)
    return False


# ---------------------------------------------------------------------------
# Values

class Num:
    """A JSON number, kept as the literal text it was written with."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return "Num(%s)" % self.text


def _reject_constant(name):
    raise ValueError("non-standard JSON constant " + name)


def parse_json(text):
    return json.loads(text, parse_int=Num, parse_float=Num,
                      parse_constant=_reject_constant)


_SURROGATE = re.compile("[\ud800-\udfff]")


def val(v):
    """Text of a scalar: strings as they are, numbers as written.

    None (absent or JSON null), the empty string, booleans, objects and arrays
    all count as absent (None). A lone UTF-16 surrogate escape (\\ud800) left
    by the JSON decoder becomes U+FFFD, as Go's decoders do."""
    if isinstance(v, str):
        if v == "":
            return None
        return _SURROGATE.sub("\ufffd", v)
    if isinstance(v, Num):
        return v.text
    return None


def dig(obj, *path):
    for p in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(p)
    return obj


def first(*values):
    """First present (non-absent, see val) value."""
    for v in values:
        t = val(v)
        if t is not None:
            return t
    return None


# ---------------------------------------------------------------------------
# Add-on basename and the parent regex

_BASENAME_RE = re.compile(r"(.*\\)(?=.*(\.\w*)$|(\w+)$)", flags=re.ASCII)
PARENT_RE = re.compile(r"(?i)(spoolsv|powershell|pwsh|cmd|svchost|winlogon|taskhost|wininit)\.exe")


def basename(s):
    return _BASENAME_RE.sub("", s)


# ---------------------------------------------------------------------------
# Time

_TIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
# Go's time in int64 Unix nanoseconds spans 1677-09-21T00:12:43.145224192Z ..
# 2262-04-11T23:47:16.854775807Z; times outside it are bad_time.
_MIN_NS = -(1 << 63)
_MAX_NS = (1 << 63) - 1
_EPOCH = datetime.datetime(1970, 1, 1)


def parse_time(s):
    """Returns RFC3339 UTC with 9 fraction digits, or None when unparseable.

    Accepted: YYYY-MM-DD, then 'T', 't' or ' ', then HH:MM:SS, optional '.'
    and 1 or more fraction digits (truncated to nanoseconds), optional zone
    'Z'/'z' or +HH:MM/-HH:MM; no zone means UTC. Calendar-checked (no leap
    second 60, no Feb 30)."""
    if not isinstance(s, str):
        return None
    m = _TIME_RE.fullmatch(s)
    if not m:
        return None
    y, mo, d, h, mi, sec = (int(m.group(k)) for k in range(1, 7))
    frac = (m.group(7) or "")[:9]
    zone = m.group(8)
    if not (1 <= mo <= 12) or y < 1:
        return None
    if not (1 <= d <= calendar.monthrange(y, mo)[1]):
        return None
    if h > 23 or mi > 59 or sec > 59:
        return None
    off = 0
    if zone and zone not in ("Z", "z"):
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 23 or om > 59:
            return None
        off = (oh * 3600 + om * 60) * (1 if zone[0] == "+" else -1)
    nanos = int(frac.ljust(9, "0")) if frac else 0
    local = datetime.datetime(y, mo, d, h, mi, sec)
    secs = (local - _EPOCH).days * 86400 + (local - _EPOCH).seconds - off
    total = secs * 1_000_000_000 + nanos
    if not (_MIN_NS <= total <= _MAX_NS):
        return None
    utc = _EPOCH + datetime.timedelta(seconds=secs)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ" % (
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, nanos)


# ---------------------------------------------------------------------------
# Shapes: each returns a View with event_id (raw value), host, channel,
# provider, a field getter and the fallback event time.

class View:
    def __init__(self, shape):
        self.shape = shape
        self.event_id = None       # raw value (str, Num, dict with #text, ...)
        self.eid_literal = True    # XML only: raw text has <EventID>1<
        self.host = None
        self.channel = None
        self.provider = None
        self.fallback_time = None  # first present fallback time value (text)
        self._fields = {}

    def field(self, name):
        return self._fields.get(name)


def _view_flat(o):
    v = View("flat")
    v.event_id = o.get("EventID")
    v.host = first(o.get("Computer"), o.get("Hostname"))
    v.channel = val(o.get("Channel"))
    v.provider = first(o.get("SourceName"), o.get("Provider"))
    v.fallback_time = first(o.get("TimeGenerated"), o.get("@timestamp"), o.get("TimeCreated"))
    v._fields = {k: t for k, x in o.items() for t in [val(x)] if t is not None}
    return v


def _fields_of(d):
    if not isinstance(d, dict):
        return {}
    return {k: t for k, x in d.items() for t in [val(x)] if t is not None}


def _view_winlog6(o):
    v = View("winlogbeat6")
    v.event_id = o.get("event_id")
    v.host = val(o.get("computer_name"))
    v.channel = val(o.get("log_name"))
    v.provider = val(o.get("source_name"))
    v.fallback_time = val(o.get("@timestamp"))
    v._fields = _fields_of(o.get("event_data"))
    return v


ECS_FALLBACK = {
    "Image": ("process", "executable"),
    "CommandLine": ("process", "command_line"),
    "ProcessId": ("process", "pid"),
    "ProcessGuid": ("process", "entity_id"),
    "CurrentDirectory": ("process", "working_directory"),
    "ParentImage": ("process", "parent", "executable"),
    "ParentCommandLine": ("process", "parent", "command_line"),
    "ParentProcessId": ("process", "parent", "pid"),
    "ParentProcessGuid": ("process", "parent", "entity_id"),
}


def _view_winlog(o, ecs):
    w = o["winlog"]
    v = View("winlogbeat-ecs" if ecs else "winlogbeat")
    eid = w.get("event_id")
    v.event_id = eid if val(eid) is not None or isinstance(eid, dict) else dig(o, "event", "code")
    v.host = val(w.get("computer_name"))
    v.channel = val(w.get("channel"))
    v.provider = val(w.get("provider_name"))
    v.fallback_time = val(o.get("@timestamp"))
    f = _fields_of(w.get("event_data"))
    if ecs:
        for name, path in ECS_FALLBACK.items():
            if name not in f:
                t = val(dig(o, *path))
                if t is not None:
                    f[name] = t
        if "User" not in f:
            name = val(dig(o, "user", "name"))
            dom = val(dig(o, "user", "domain"))
            if name is not None:
                f["User"] = dom + "\\" + name if dom is not None else name
    v._fields = f
    return v


def _view_evtx(o):
    ev = o["Event"]
    sysm = ev.get("System") if isinstance(ev.get("System"), dict) else {}
    ed = ev.get("EventData")
    data = ed.get("Data") if isinstance(ed, dict) else None
    is_list = isinstance(data, list) or (isinstance(data, dict) and "@Name" in data)
    v = View("evtx-list" if is_list else "evtx-map")
    v.event_id = sysm.get("EventID")
    v.host = val(sysm.get("Computer"))
    v.channel = val(sysm.get("Channel"))
    if is_list:
        v.provider = val(dig(sysm, "Provider", "@Name"))
        v.fallback_time = val(dig(sysm, "TimeCreated", "@SystemTime"))
        items = data if isinstance(data, list) else [data]
        f = {}
        for it in items:
            if not isinstance(it, dict):
                continue
            name = val(it.get("@Name"))
            t = val(it.get("#text"))
            if name is not None and t is not None and name not in f:
                f[name] = t  # the first non-empty entry of a name wins
        v._fields = f
    else:
        v.provider = val(dig(sysm, "Provider", "#attributes", "Name"))
        v.fallback_time = val(dig(sysm, "TimeCreated", "#attributes", "SystemTime"))
        v._fields = _fields_of(ed)
    return v


def detect_json(o):
    """Shape detection, in the detector's documented order. None = no shape."""
    if not isinstance(o, dict):
        return None
    if isinstance(o.get("Event"), dict):
        return _view_evtx(o)
    if isinstance(o.get("winlog"), dict):
        ed = o["winlog"].get("event_data")
        edf = _fields_of(ed)
        ecs = isinstance(o.get("process"), dict) and "Image" not in edf and "ParentImage" not in edf
        return _view_winlog(o, ecs)
    if isinstance(o.get("event_data"), dict) and any(k in o for k in ("event_id", "computer_name", "log_name")):
        return _view_winlog6(o)
    # Winlogbeat 6 events without event_data (user_data events) are still
    # Winlogbeat 6: an event id plus the computer or log name says so.
    if val(o.get("event_id")) is not None and (val(o.get("computer_name")) is not None or val(o.get("log_name")) is not None):
        return _view_winlog6(o)
    if "EventID" in o:
        return _view_flat(o)
    return None


def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(elem, name):
    if elem is None:
        return None
    for c in elem:
        if _local(c.tag) == name:
            return c
    return None


def _text(elem):
    if elem is None:
        return None
    t = "".join(elem.itertext())
    return t if t != "" else None


def _attr(elem, name):
    if elem is None:
        return None
    t = elem.get(name)
    return t if t not in (None, "") else None


_EID_LITERAL = re.compile(rb"<eventid>1<", re.IGNORECASE)


def detect_xml(body, raw):
    """body: the record without leading whitespace/BOM; raw: the whole record
    (for the <EventID>1< literal). Returns a View, or the string 'malformed' /
    None (no shape)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return "malformed"
    if _local(root.tag) != "Event":
        return None
    v = View("xml")
    sysm = _child(root, "System")
    v.event_id = _text(_child(sysm, "EventID"))
    v.eid_literal = _EID_LITERAL.search(raw) is not None
    v.host = _text(_child(sysm, "Computer"))
    v.channel = _text(_child(sysm, "Channel"))
    v.provider = _attr(_child(sysm, "Provider"), "Name")
    v.fallback_time = _attr(_child(sysm, "TimeCreated"), "SystemTime")
    f = {}
    ed = _child(root, "EventData")
    if ed is not None:
        for d in ed:
            if _local(d.tag) != "Data":
                continue
            name = d.get("Name")
            t = _text(d)
            if name and t is not None and name not in f:
                f[name] = t  # the first non-empty entry of a name wins
    v._fields = f
    return v


# ---------------------------------------------------------------------------
# The rule

def is_eid1(v):
    e = v.event_id
    if isinstance(e, dict) and v.shape in ("evtx-list", "evtx-map"):
        e = e.get("#text")  # {"#text": "1", "@Qualifiers": ...} (EVTX converters)
    if isinstance(e, Num):
        ok = e.text == "1"
    elif isinstance(e, str):
        ok = e == "1"
    else:
        ok = False
    return ok and v.eid_literal


def is_sysmon(v):
    named = [x for x in (v.channel, v.provider) if x is not None]
    if not named:
        return True
    return any("sysmon" in x.lower() for x in named)


OUTPUT_FIELDS = [
    ("user", "User", False),
    ("process", "CommandLine", False),
    ("process_current_directory", "CurrentDirectory", False),
    ("process_exec", "Image", True),
    ("process_guid", "ProcessGuid", False),
    ("process_hash", "Hashes", False),
    ("process_id", "ProcessId", False),
    ("process_integrity_level", "IntegrityLevel", False),
    ("process_name", "Image", True),
    ("process_path", "Image", False),
    ("parent_process_exec", "ParentImage", True),
    ("parent_process_guid", "ParentProcessGuid", False),
    ("parent_process_id", "ParentProcessId", False),
    ("parent_process_name", "ParentImage", True),
    ("parent_process_path", "ParentImage", False),
]


def _skip_leading(raw):
    """Drops leading ASCII whitespace (space, tab, CR, LF) and UTF-8 BOMs."""
    i = 0
    while i < len(raw):
        if raw[i] in b" \t\r\n":
            i += 1
        elif raw.startswith(b"\xef\xbb\xbf", i):
            i += 3
        else:
            break
    return raw[i:]


def parse_record(raw):
    """Returns a View, or the error reason "malformed" / "unknown_shape".
    Leading ASCII whitespace and a UTF-8 byte order mark are skipped; then a
    record starting with '<' is XML, anything else JSON."""
    body = _skip_leading(raw)
    if body[:1] == b"<":
        v = detect_xml(body, raw)
    else:
        try:
            o = parse_json(body.decode("utf-8", errors="strict"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return "malformed"
        v = detect_json(o)
    return "unknown_shape" if v is None else v


def evaluate(raw, term=DEFAULT_TERM):
    """raw: bytes of one record (without its newline). Returns the result dict
    without the line number."""
    if not has_token(raw, term):
        return {"result": "nomatch"}
    v = parse_record(raw)
    if isinstance(v, str):
        return {"result": "error", "reason": v}
    if not is_sysmon(v) or not is_eid1(v):
        return {"result": "nomatch"}
    parent = v.field("ParentImage")
    if parent is None or not PARENT_RE.search(basename(parent)):
        return {"result": "nomatch"}
    if v.host is None or v.host.strip() == "":
        return {"result": "error", "reason": "missing_host"}
    utc = v.field("UtcTime")
    t = parse_time(utc if utc is not None else v.fallback_time)
    if t is None:
        return {"result": "error", "reason": "bad_time"}
    fields = {}
    for out, src, base in OUTPUT_FIELDS:
        x = v.field(src)
        if x is None:
            continue
        fields[out] = basename(x) if base else x
    return {"result": "match", "shape": v.shape, "host": v.host, "time": t, "fields": fields}


def format_result(n, res):
    obj = dict(res)
    obj["line"] = n
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def split_records(data, keep_cr=False):
    """Lines as Go's bufio.ScanLines cuts them: split at '\\n', one trailing
    '\\r' dropped (CRLF files), a final unterminated line counts, the empty
    piece after a final newline does not. keep_cr=True keeps the '\\r' (to
    copy source lines byte for byte)."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not keep_cr:
        lines = [x[:-1] if x.endswith(b"\r") else x for x in lines]
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--term", help="rule term (default msiexec)")
    g.add_argument("--rule", help="rule.json with {\"term\": ...}")
    ap.add_argument("-o", "--output", help="output file (default stdout)")
    a = ap.parse_args(argv)
    term = DEFAULT_TERM
    if a.term:
        term = a.term
    elif a.rule:
        with open(a.rule, encoding="utf-8") as fh:
            term = json.load(fh)["term"]
    with open(a.input, "rb") as fh:
        data = fh.read()
    out = []
    for n, raw in enumerate(split_records(data), 1):
        out.append(format_result(n, evaluate(raw, term)) + "\n")
    if a.output:
        with open(a.output, "w", encoding="utf-8", newline="\n") as fh:
            fh.writelines(out)
    else:
        sys.stdout.reconfigure(encoding="utf-8", newline="\n")
        sys.stdout.writelines(out)


if __name__ == "__main__":
    main()
