"""Renderers that write one Sysmon event in each of the shapes the detector
reads. Used by build_testdata.py (to derive real records into the shapes that
have no real source here) and by synthetic.py. Stdlib only.

An event is an `Ev`: the System part (provider, event id, time, channel,
computer, ...) and the EventData as an ordered list of (name, value) where the
value is a str (possibly "") or an int (kept as a JSON number in the map form).
"""

import json

SYSMON = "Microsoft-Windows-Sysmon"
SYSMON_GUID = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"
SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
XMLNS = "http://schemas.microsoft.com/win/2004/08/events/event"

# Sysmon's own EventData order, used to order fields of sources that lost it
# (Winlogbeat event_data objects).
SYSMON_ORDER = {
    1: ["RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "FileVersion", "Description",
        "Product", "Company", "OriginalFileName", "CommandLine", "CurrentDirectory", "User",
        "LogonGuid", "LogonId", "TerminalSessionId", "IntegrityLevel", "Hashes",
        "ParentProcessGuid", "ParentProcessId", "ParentImage", "ParentCommandLine", "ParentUser"],
    10: ["RuleName", "UtcTime", "SourceProcessGUID", "SourceProcessId", "SourceThreadId",
         "SourceImage", "TargetProcessGUID", "TargetProcessId", "TargetImage", "GrantedAccess",
         "CallTrace", "SourceUser", "TargetUser"],
    13: ["RuleName", "EventType", "UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetObject",
         "Details", "User"],
}

TASK_NAMES = {
    1: "Process Create (rule: ProcessCreate)",
    7: "Image loaded (rule: ImageLoad)",
    10: "Process accessed (rule: ProcessAccess)",
    11: "File created (rule: FileCreate)",
    12: "Registry object added or deleted (rule: RegistryEvent)",
    13: "Registry value set (rule: RegistryEvent)",
}
MESSAGE_TITLES = {
    1: "Process Create:",
    7: "Image loaded:",
    10: "Process accessed:",
    11: "File created:",
    12: "Registry object added or deleted:",
    13: "Registry value set:",
}


class Ev:
    def __init__(self, eid, computer, time, data, channel=SYSMON_CHANNEL, provider=SYSMON,
                 provider_guid=SYSMON_GUID, version=5, level=4, task=None, opcode=0,
                 keywords="0x8000000000000000", record_id=1, exec_pid=3000, exec_tid=4000,
                 user_sid="S-1-5-18"):
        self.eid = eid
        self.computer = computer
        # time: (YYYY-MM-DDTHH:MM:SS, 9 fraction digits), UTC
        self.time = time
        self.data = list(data)
        self.channel = channel
        self.provider = provider
        self.provider_guid = provider_guid
        self.version = version
        self.level = level
        self.task = eid if task is None else task
        self.opcode = opcode
        self.keywords = keywords
        self.record_id = record_id
        self.exec_pid = exec_pid
        self.exec_tid = exec_tid
        self.user_sid = user_sid

    def get(self, name):
        for k, v in self.data:
            if k == name:
                return v
        return None

    def sget(self, name):
        v = self.get(name)
        return None if v is None else str(v)


def split_time(s):
    """'2025-11-26T05:11:27.927693Z' / '2019-10-27T05:50:41.345Z' /
    '2019-10-27 05:50:41.332' -> ('2025-11-26T05:11:27', '927693000')."""
    s = s.rstrip("Z").replace(" ", "T")
    base, _, frac = s.partition(".")
    return base, (frac + "000000000")[:9]


def t_xml(t):
    return "%s.%sZ" % (t[0], t[1][:7])


def t_list(t):
    return "%s.%s" % (t[0].replace("T", " "), t[1][:7])


def t_map(t):
    return "%s.%sZ" % (t[0], t[1][:6])


def t_ms(t):
    return "%s.%sZ" % (t[0], t[1][:3])


def utc_ms(ev):
    """@timestamp as the Winlogbeat sysmon module sets it: from UtcTime."""
    u = ev.sget("UtcTime")
    if u:
        return t_ms(split_time(u))
    return t_ms(ev.time)


# ---------------------------------------------------------------------------
# Raw XML (XmlWinEventLog, as Windows renders it: single-quoted attributes)

def xesc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace('"', "&quot;"))


def to_xml(ev, q="'", empty_style="pair"):
    def a(name, value):
        return " %s=%s%s%s" % (name, q, xesc(str(value)), q)
    out = ["<Event xmlns=%s%s%s>" % (q, XMLNS, q), "<System>"]
    out.append("<Provider%s%s/>" % (a("Name", ev.provider), a("Guid", ev.provider_guid)))
    out.append("<EventID>%s</EventID>" % ev.eid)
    out.append("<Version>%s</Version><Level>%s</Level><Task>%s</Task><Opcode>%s</Opcode>"
               % (ev.version, ev.level, ev.task, ev.opcode))
    out.append("<Keywords>%s</Keywords>" % ev.keywords)
    out.append("<TimeCreated%s/>" % a("SystemTime", t_xml(ev.time)))
    out.append("<EventRecordID>%s</EventRecordID>" % ev.record_id)
    out.append("<Correlation/>")
    out.append("<Execution%s%s/>" % (a("ProcessID", ev.exec_pid), a("ThreadID", ev.exec_tid)))
    if ev.channel is not None:
        out.append("<Channel>%s</Channel>" % xesc(ev.channel))
    if ev.computer is not None:
        out.append("<Computer>%s</Computer>" % xesc(ev.computer))
    out.append("<Security%s/>" % a("UserID", ev.user_sid))
    out.append("</System><EventData>")
    for k, v in ev.data:
        v = "" if v is None else str(v)
        if v == "" and empty_style == "self":
            out.append("<Data%s/>" % a("Name", k))
        else:
            out.append("<Data%s>%s</Data>" % (a("Name", k), xesc(v)))
    out.append("</EventData></Event>")
    return "".join(out)


# ---------------------------------------------------------------------------
# EVTX-to-JSON, list form (xmltodict / EvtxECmd style: everything a string)

def to_evtx_list(ev):
    data = []
    for k, v in ev.data:
        item = {"@Name": k}
        if v is not None and str(v) != "":
            item["#text"] = str(v)
        data.append(item)
    system = {
        "Provider": {"@Name": ev.provider, "@Guid": ev.provider_guid},
        "EventID": str(ev.eid),
        "Version": str(ev.version),
        "Level": str(ev.level),
        "Task": str(ev.task),
        "Opcode": str(ev.opcode),
        "Keywords": ev.keywords,
        "TimeCreated": {"@SystemTime": t_list(ev.time)},
        "EventRecordID": str(ev.record_id),
        "Correlation": None,
        "Execution": {"@ProcessID": str(ev.exec_pid), "@ThreadID": str(ev.exec_tid)},
        "Channel": ev.channel,
        "Computer": ev.computer,
        "Security": {"@UserID": ev.user_sid},
    }
    if ev.channel is None:
        del system["Channel"]
    if ev.computer is None:
        del system["Computer"]
    return {"Event": {"@xmlns": XMLNS, "System": system, "EventData": {"Data": data}}}


# ---------------------------------------------------------------------------
# EVTX-to-JSON, map form (evtx_dump / Sigma regression data)

def to_evtx_map(ev):
    system = {
        "Provider": {"#attributes": {"Name": ev.provider, "Guid": ev.provider_guid.strip("{}").upper()}},
        "EventID": ev.eid,
        "Version": ev.version,
        "Level": ev.level,
        "Task": ev.task,
        "Opcode": ev.opcode,
        "Keywords": ev.keywords,
        "TimeCreated": {"#attributes": {"SystemTime": t_map(ev.time)}},
        "EventRecordID": ev.record_id,
        "Correlation": None,
        "Execution": {"#attributes": {"ProcessID": ev.exec_pid, "ThreadID": ev.exec_tid}},
        "Channel": ev.channel,
        "Computer": ev.computer,
        "Security": {"#attributes": {"UserID": ev.user_sid}},
    }
    if ev.channel is None:
        del system["Channel"]
    if ev.computer is None:
        del system["Computer"]
    return {"Event": {"#attributes": {"xmlns": XMLNS}, "System": system,
                      "EventData": {k: v for k, v in ev.data}}}


# ---------------------------------------------------------------------------
# Winlogbeat 7 raw (no sysmon module), Winlogbeat 6

def message(ev):
    title = MESSAGE_TITLES.get(ev.eid, "Sysmon event %d:" % ev.eid)
    return "\n".join([title] + ["%s: %s" % (k, "" if v is None else v) for k, v in ev.data])


def _str_data(ev):
    return {k: str(v) for k, v in ev.data if v is not None and str(v) != ""}


def to_winlogbeat(ev, collector="WECServer"):
    return {
        "@timestamp": t_ms(ev.time),
        "@metadata": {"beat": "winlogbeat", "type": "_doc", "version": "7.4.0", "topic": "winlogbeat"},
        "message": message(ev),
        "ecs": {"version": "1.1.0"},
        "host": {"name": collector},
        "agent": {"hostname": collector, "type": "winlogbeat", "version": "7.4.0"},
        "winlog": {
            "record_id": ev.record_id,
            "provider_guid": ev.provider_guid,
            "computer_name": ev.computer,
            "provider_name": ev.provider,
            "api": "wineventlog",
            "process": {"thread": {"id": ev.exec_tid}, "pid": ev.exec_pid},
            "version": ev.version,
            "user": {"identifier": ev.user_sid, "name": "SYSTEM", "domain": "NT AUTHORITY", "type": "User"},
            "event_data": _str_data(ev),
            "channel": ev.channel,
            "event_id": ev.eid,
            "task": TASK_NAMES.get(ev.eid, ""),
            "opcode": "Info",
        },
        "event": {"code": ev.eid, "action": TASK_NAMES.get(ev.eid, ""), "kind": "event"},
        "log": {"level": "information"},
    }


def to_winlogbeat6(ev, collector="WECserver"):
    return {
        "@timestamp": t_ms(ev.time),
        "@metadata": {"beat": "winlogbeat", "type": "doc", "version": "6.7.0", "topic": "winlogbeat"},
        "log_name": ev.channel,
        "computer_name": ev.computer,
        "task": TASK_NAMES.get(ev.eid, ""),
        "event_data": _str_data(ev),
        "version": ev.version,
        "process_id": ev.exec_pid,
        "user": {"identifier": ev.user_sid, "name": "SYSTEM", "domain": "NT AUTHORITY", "type": "User"},
        "host": {"name": collector},
        "source_name": ev.provider,
        "event_id": ev.eid,
        "level": "Information",
        "thread_id": ev.exec_tid,
        "message": message(ev),
        "type": "wineventlog",
        "record_number": str(ev.record_id),
        "opcode": "Info",
        "beat": {"name": collector, "hostname": collector, "version": "6.7.0"},
    }


# ---------------------------------------------------------------------------
# Winlogbeat 8 with the sysmon module (ECS), modelled on the module's golden
# files (x-pack/winlogbeat/module/sysmon/test/testdata/ingest/*.golden.json).

def _argv(cmd):
    """CommandLineToArgvW-like split (enough for process.args)."""
    args, cur, inq, have, i = [], [], False, False, 0
    while i < len(cmd):
        c = cmd[i]
        if c == "\\":
            j = i
            while j < len(cmd) and cmd[j] == "\\":
                j += 1
            n = j - i
            if j < len(cmd) and cmd[j] == '"':
                cur.append("\\" * (n // 2))
                if n % 2:
                    cur.append('"')
                    j += 1
                i = j
            else:
                cur.append("\\" * n)
                i = j
            have = True
            continue
        if c == '"':
            inq = not inq
            have = True
        elif c in " \t" and not inq:
            if have:
                args.append("".join(cur))
                cur, have = [], False
        else:
            cur.append(c)
            have = True
        i += 1
    if have:
        args.append("".join(cur))
    return args


def _win_basename(p):
    return p.rsplit("\\", 1)[-1]


def _user(s):
    if not s:
        return None
    if "\\" in s:
        d, n = s.split("\\", 1)
        return {"domain": d, "name": n}
    return {"name": s}


def _ecs_process(d, guid, image, pid=None, cmd=None):
    """The ECS process (or process.parent) object of the Sysmon fields named:
    args and command_line, entity_id, executable and name, pid; absent ones
    are left out."""
    p = {}
    if cmd and d.get(cmd):
        args = _argv(d[cmd])
        p.update({"args": args, "args_count": len(args), "command_line": d[cmd]})
    if d.get(guid):
        p["entity_id"] = d[guid]
    if d.get(image):
        p["executable"] = d[image]
        p["name"] = _win_basename(d[image])
    if pid and d.get(pid):
        p["pid"] = int(d[pid])
    return p


def to_ecs(ev, collector):
    d = {k: ("" if v is None else str(v)) for k, v in ev.data}
    ed = {}
    doc = {"@timestamp": utc_ms(ev), "ecs": {"version": "8.17.0"}}
    proc = {}
    user = None
    related = {}
    if ev.eid == 1:
        event = {"action": "Process creation", "category": ["process"], "type": ["start"]}
        proc = _ecs_process(d, "ProcessGuid", "Image", cmd="CommandLine")
        hashes = {}
        pe = {}
        for part in d.get("Hashes", "").split(","):
            if "=" in part:
                k, v = part.split("=", 1)
                if k.upper() == "IMPHASH":
                    pe["imphash"] = v.lower()
                else:
                    hashes[k.lower()] = v.lower()
        if hashes:
            proc["hash"] = hashes
            related["hash"] = list(hashes.values()) + ([pe["imphash"]] if "imphash" in pe else [])
        parent = _ecs_process(d, "ParentProcessGuid", "ParentImage", pid="ParentProcessId", cmd="ParentCommandLine")
        if parent:
            proc["parent"] = parent
        for src, dst in (("Company", "company"), ("Description", "description"),
                         ("FileVersion", "file_version"), ("OriginalFileName", "original_file_name"),
                         ("Product", "product")):
            if d.get(src):
                pe[dst] = d[src]
        if pe:
            proc["pe"] = pe
        if d.get("ProcessId"):
            proc["pid"] = int(d["ProcessId"])
        if d.get("CurrentDirectory"):
            proc["working_directory"] = d["CurrentDirectory"]
        user = _user(d.get("User"))
        for k in ("Company", "Description", "FileVersion", "IntegrityLevel", "LogonGuid", "LogonId",
                  "Product", "TerminalSessionId", "ParentUser"):
            if d.get(k):
                ed[k] = d[k]
    elif ev.eid == 10:
        event = {"action": "Process accessed", "category": ["process"], "type": ["access"]}
        proc = _ecs_process(d, "SourceProcessGUID", "SourceImage", pid="SourceProcessId")
        if d.get("SourceThreadId"):
            proc["thread"] = {"id": int(d["SourceThreadId"])}
        user = _user(d.get("SourceUser"))
        for k in ("CallTrace", "GrantedAccess", "TargetImage", "TargetProcessGUID", "TargetProcessId",
                  "TargetUser"):
            if d.get(k):
                ed[k] = d[k]
    else:
        event = {"action": TASK_NAMES.get(ev.eid, "").split(" (")[0], "category": ["configuration"],
                 "type": ["change"]}
        proc = _ecs_process(d, "ProcessGuid", "Image", pid="ProcessId")
        user = _user(d.get("User"))
        if ev.eid in (12, 13, 14) and d.get("TargetObject"):
            to = d["TargetObject"]
            hive, _, key = to.partition("\\")
            reg = {"hive": hive, "key": key, "path": to, "value": to.rsplit("\\", 1)[-1]}
            if d.get("Details"):
                reg["data"] = {"strings": [d["Details"]]}
            doc["registry"] = reg
        for k, v in d.items():
            if k not in ("RuleName", "UtcTime", "ProcessGuid", "Image", "ProcessId", "User",
                         "TargetObject", "Details") and v:
                ed[k] = v
    event.update({"code": str(ev.eid), "kind": "event", "module": "sysmon", "provider": ev.provider})
    doc["event"] = dict(sorted(event.items()))
    doc["host"] = {"name": collector}
    doc["log"] = {"level": "information"}
    doc["message"] = message(ev)
    if proc:
        doc["process"] = proc
    if user:
        related["user"] = [user["name"]]
        user = dict(user)
        user["id"] = ev.user_sid
        doc["user"] = dict(sorted(user.items()))
    if related:
        doc["related"] = related
    doc["winlog"] = {
        "channel": ev.channel,
        "computer_name": ev.computer,
        "event_data": ed,
        "event_id": str(ev.eid),
        "opcode": "Info",
        "process": {"pid": ev.exec_pid, "thread": {"id": ev.exec_tid}},
        "provider_guid": ev.provider_guid.upper(),
        "provider_name": ev.provider,
        "record_id": str(ev.record_id),
        "task": TASK_NAMES.get(ev.eid, ""),
        "user": {"domain": "NT AUTHORITY", "identifier": ev.user_sid, "name": "SYSTEM",
                 "type": "Well Known Group"},
        "version": ev.version,
    }
    return doc


def dumps(obj):
    """Compact JSON with raw UTF-8, as Kafka producers commonly write."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
