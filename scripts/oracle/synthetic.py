#!/usr/bin/env python3
"""Writes the synthetic golden inputs (synthetic-positives, synthetic-traps,
synthetic-xml, synthetic-edges) under detector/testdata/golden/, with a cases.md per case that
says what each line is for. Expectations (want.jsonl) come from the oracle
only (run regen.py afterwards; build_testdata.py does both).

Command lines are modelled on real Atomic Red Team T1218.007 runs (see
shared/reference/sysmon-formats.md); hosts, GUIDs, PIDs and hashes are made up.
"""
import datetime
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import shapes  # noqa: E402
from shapes import Ev, dumps  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "detector", "testdata", "golden"))

SYS32 = "C:\\Windows\\System32\\"
CMD = SYS32 + "cmd.exe"
PS = SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe"
MSI = SYS32 + "msiexec.exe"
ART = "C:\\AtomicRedTeam\\atomics\\T1218.007\\bin\\"
HASH_MSI = ("SHA1=E5F3A3B3C1F1A6C0D0B2E58F4E8C3A3C2D1A7B11,MD5=A6F9C1F4C0B5E1D2F3A4B5C6D7E8F901,"
            "SHA256=4B1E3C8D2A9F0E7D6C5B4A39281706F5E4D3C2B1A09F8E7D6C5B4A3928170615,"
            "IMPHASH=2B1C5E7F9A0D3C6E8F1A2B4C6D8E0F13")
HASH_CONHOST = ("SHA256=9C4FC2D7F3C9E0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F6071829,"
                "IMPHASH=88D0A3A2C1B0E9F8D7C6B5A493827160")

_pid = [5100]


def _next_pid():
    _pid[0] += 36
    return str(_pid[0])


def guid(n):
    return "{b7f1c3a2-%04x-6643-%04x-00000000%04x}" % (0x5d00 + n, 0x1a00 + n, 0x0a00 + n)


def eid1(image, cmd, parent, pcmd, n=1, user="ATOMIC\\analyst", utc="2024-05-14 09:12:33.417",
         cwd="C:\\Users\\analyst\\", il="High", hashes=HASH_MSI, product="Windows Installer - Unicode",
         company="Microsoft Corporation", ofn="msiexec.exe", pid=None, ppid=None, drop=(), **over):
    data = [
        ("RuleName", "-"), ("UtcTime", utc), ("ProcessGuid", guid(n)), ("ProcessId", pid or _next_pid()),
        ("Image", image), ("FileVersion", "5.0.19041.3636 (WinBuild.160101.0800)"),
        ("Description", product), ("Product", "Microsoft\u00ae Windows\u00ae Operating System"),
        ("Company", company), ("OriginalFileName", ofn), ("CommandLine", cmd),
        ("CurrentDirectory", cwd), ("User", user), ("LogonGuid", "{b7f1c3a2-1f00-6643-6f2c-0a0000000000}"),
        ("LogonId", "0xa2c6f"), ("TerminalSessionId", "1"), ("IntegrityLevel", il), ("Hashes", hashes),
        ("ParentProcessGuid", guid(n + 500)), ("ParentProcessId", ppid or str(int(_pid[0]) - 800)),
        ("ParentImage", parent), ("ParentCommandLine", pcmd), ("ParentUser", user),
    ]
    out = []
    for k, v in data:
        if k in drop:
            continue
        out.append((k, over.pop(k, v)))
    for k, v in over.items():
        out.append((k, v))
    return out


def ev(data, computer="WS-ATOMIC01.corp.example", eid=1, time=None, **kw):
    if time is None:
        u = dict(data).get("UtcTime") or "2024-05-14 09:12:33.417"
        # the event's TimeCreated is a few hundred microseconds after UtcTime
        b, f = shapes.split_time(str(u))
        time = (b, str(int(f) + 412300).rjust(9, "0")[:9])
    return Ev(eid, computer, time, data, **kw)


def shift(iso_base, hours):
    t = datetime.datetime.strptime(iso_base, "%Y-%m-%dT%H:%M:%S") + datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%S")


# ---------------------------------------------------------------------------
# Flat renderers (three real flavours)

def _flat_fields(o, e, drop, extra):
    """Adds e's EventData fields at the top level of the flat record o, then
    removes the keys in drop and adds extra (the cases' variations)."""
    for k, v in e.data:
        o[k] = v
    for k in drop:
        o.pop(k, None)
    if extra:
        o.update(extra)
    return o


def flat_otrf2023(e, envelope_hours=-19, eid_value=None, drop=(), extra=None):
    """F2 style: Hostname, TimeCreated/@timestamp (19 h off), CRLF Message."""
    b, f = e.time
    env = "%s.%sZ" % (shift(b, envelope_hours), f[:3])
    o = {"SourceName": e.provider, "Level": "4", "Channel": e.channel, "Hostname": e.computer,
         "TimeCreated": env, "@timestamp": env, "EventID": e.eid if eid_value is None else eid_value,
         "Message": shapes.message(e).replace("\n", "\r\n"), "Task": str(e.task)}
    return json.dumps(_flat_fields(o, e, drop, extra), ensure_ascii=False)


def flat_nxlog(e, drop=(), extra=None):
    """F3 style: NXLog im_msvistalog via Logstash; `host` is the collector,
    EventTime local (UTC-4, no zone)."""
    b, f = e.time
    local = shift(b, -4).replace("T", " ")
    o = {"SeverityValue": 2, "EventReceivedTime": local, "EventID": e.eid, "ExecutionProcessID": 3392,
         "Channel": e.channel, "host": "wec.internal.cloudapp.net", "AccountType": "User",
         "Opcode": "Info", "EventTime": local, "SourceModuleType": "im_msvistalog",
         "AccountName": "SYSTEM", "Domain": "NT AUTHORITY", "@version": "1", "OpcodeValue": 0,
         "Severity": "INFO", "SourceName": e.provider, "Category": "Process Create (rule: ProcessCreate)",
         "UserID": "S-1-5-18", "ThreadID": 5552, "EventType": "INFO",
         "@timestamp": "%s.%sZ" % (shift(b, 0), f[:3]), "port": 64545, "RecordNumber": e.record_id,
         "Task": e.task, "SourceModuleName": "eventlog", "Version": 5, "Hostname": e.computer,
         "tags": ["mordorDataset"]}
    return json.dumps(_flat_fields(o, e, drop, extra), ensure_ascii=False)


def flat_sd2(e, drop=(), extra=None):
    """F6 style: Computer, TimeGenerated (UTC), TimeCreated (8 h ahead),
    EventData as an XML string."""
    b, f = e.time
    xml = ('<EventData xmlns="%s">' % shapes.XMLNS
           + "".join('<Data Name="%s">%s</Data>' % (k, shapes.xesc(str(v))) for k, v in e.data)
           + "</EventData>")
    o = {"EventSourceName": e.provider, "Provider": e.provider, "Level": "4", "Channel": e.channel,
         "Computer": e.computer, "TimeCreated": "%s.%sZ" % (shift(b, 8), f[:3]),
         "TimeGenerated": "%s.%sZ" % (b, f[:3]), "EventRecordID": str(e.record_id), "EventID": e.eid,
         "Message": shapes.message(e).replace("\n", "\r\n"), "EventData": xml, "Task": str(e.task)}
    return dumps(_flat_fields(o, e, drop, extra))


def j(o):
    return dumps(o)


def edit(obj, fn):
    fn(obj)
    return dumps(obj)


# ---------------------------------------------------------------------------

def positives():
    R = []

    def add(note, line):
        R.append((note, line))

    # 1 flat (OTRF 2023): ART JScript msi; @timestamp/TimeCreated 19 h before UtcTime
    e = ev(eid1(MSI, 'msiexec.exe  /q /i "%sT1218.007_JScript.msi"' % ART, CMD,
                '"cmd.exe" /c msiexec.exe /q /i "%sT1218.007_JScript.msi"' % ART, n=1,
                cwd="C:\\AtomicRedTeam\\"), computer="WS-ATOMIC01.corp.example")
    add("flat (OTRF 2023 style): cmd.exe -> msiexec /q /i T1218.007_JScript.msi; envelope time 19 h "
        "before UtcTime (time must be UtcTime)", flat_otrf2023(e))
    # 2 winlogbeat raw: msi from URL, host.name collector
    e = ev(eid1(MSI, 'msiexec.exe  /q /i "https://github.com/redcanaryco/atomic-red-team/raw/master/'
                'atomics/T1218.007/bin/T1218.007_JScript.msi"', CMD,
                '"cmd.exe" /c msiexec.exe /q /i "https://github.com/redcanaryco/atomic-red-team/raw/'
                'master/atomics/T1218.007/bin/T1218.007_JScript.msi"', n=2,
                utc="2024-05-14 09:14:02.090"), computer="WS-ATOMIC02.corp.example", record_id=88121)
    add("winlogbeat 7 raw: cmd.exe -> msiexec /q /i https://.../T1218.007_JScript.msi; host.name "
        "is the collector WECServer", j(shapes.to_winlogbeat(e)))
    # 3 winlogbeat6: /y MSIRunner.dll
    e = ev(eid1(MSI, 'msiexec.exe /y "%sMSIRunner.dll"' % ART, CMD,
                '"cmd.exe" /c msiexec.exe /y "%sMSIRunner.dll"' % ART, n=3,
                utc="2024-05-14 09:15:40.001"), computer="HR001.shire.com")
    add("winlogbeat6: cmd.exe -> msiexec /y MSIRunner.dll; host.name/beat.hostname are the collector",
        j(shapes.to_winlogbeat6(e)))
    # 4 evtx-list: /z MSIRunner.dll
    e = ev(eid1(MSI, 'msiexec.exe /z "%sMSIRunner.dll"' % ART, CMD,
                '"cmd.exe" /c msiexec.exe /z "%sMSIRunner.dll"' % ART, n=4,
                utc="2024-05-14 09:16:11.734"), computer="ws-atomic03")
    add("evtx-list: cmd.exe -> msiexec /z MSIRunner.dll; EventID \"1\" string",
        j(shapes.to_evtx_list(e)))
    # 5 winlogbeat-ecs: LogMeIn
    e = ev(eid1(MSI, '"C:\\Windows\\System32\\msiexec.exe" /i "C:\\Users\\analyst\\AppData\\Local\\Temp\\'
                'LogMeInIgnition.msi" /quiet', PS,
                '"powershell.exe" & {Invoke-WebRequest -OutFile $env:TEMP\\LogMeInIgnition.msi '
                'https://secure.logmein.com/LogMeInIgnition.msi; msiexec /i $env:TEMP\\LogMeInIgnition.msi /quiet}',
                n=5, utc="2024-05-14 09:20:45.512", user="CORP\\analyst"),
           computer="WS-ATOMIC04.corp.example", record_id=52311)
    add("winlogbeat-ecs (sysmon module): powershell.exe -> \"...\\msiexec.exe\" /i LogMeInIgnition.msi "
        "/quiet; fields from process.*, user.domain+name; time from @timestamp; no Hashes in event_data",
        j(shapes.to_ecs(e, "WECServer")))
    # 6 evtx-map: ScreenConnect, int ProcessIds, 9-digit SystemTime
    d = eid1(MSI, "msiexec  /i C:\\Users\\analyst\\Downloads\\ScreenConnect.ClientSetup.msi /qn", PS,
             '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -ExecutionPolicy Bypass '
             '-Command "msiexec /i C:\\Users\\analyst\\Downloads\\ScreenConnect.ClientSetup.msi /qn"',
             n=6, utc="2024-05-14 09:22:19.870", pid="7412", ppid="6388")
    d = [(k, int(v) if k in ("ProcessId", "ParentProcessId", "TerminalSessionId") else v) for k, v in d]
    e = ev(d, computer="ar-win-2.attackrange.local", time=("2024-05-14T09:22:19", "871235400"))
    add("evtx-map: powershell.exe -> msiexec /i ScreenConnect.ClientSetup.msi /qn; ProcessId/"
        "ParentProcessId JSON ints", j(shapes.to_evtx_map(e)))
    # 7 flat sd2: cmd.exe -> conhost.exe whose ParentCommandLine runs msiexec
    e = ev(eid1(SYS32 + "conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", CMD,
                'cmd.exe /c msiexec /q /i "%sT1218.007_JScript.msi"' % ART, n=7,
                utc="2024-05-14 09:25:00.004", hashes=HASH_CONHOST, product="Console Window Host",
                ofn="CONHOST.EXE"), computer="WORKSTATION6.mssentinel.local")
    add("flat (Sentinel/sd2 style, Computer, TimeGenerated, EventData XML string): cmd.exe -> "
        "conhost.exe; msiexec only in ParentCommandLine (dropped from output)", flat_sd2(e))
    # 8 flat nxlog: svchost -> MsiExec.exe -Embedding, mojibake Product, collector `host`
    d = eid1(MSI, "C:\\Windows\\System32\\MsiExec.exe -Embedding 5C5B3A3D1C0E6D5E8F0F2AF5B5E5D9C1 C",
             SYS32 + "svchost.exe", "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p", n=8,
             user="NT AUTHORITY\\SYSTEM", il="System", utc="2020-09-18 17:06:07.797",
             cwd="C:\\Windows\\system32\\", Product="Microsoft\u00c2\u00ae Windows\u00c2\u00ae Operating System")
    e = ev(d, computer="WORKSTATION5.theshire.local", record_id=1704967)
    add("flat (NXLog style): svchost.exe -> MsiExec.exe -Embedding; `host` is the collector; EventTime "
        "local (ignored); mojibake Product", flat_nxlog(e))
    # 9 evtx-map: syswow64\MsiExec.exe -Embedding
    d = eid1("C:\\Windows\\SysWOW64\\msiexec.exe",
             "C:\\Windows\\syswow64\\MsiExec.exe -Embedding 0F3A41C2E8D7B6A5F4E3D2C1B0A99887 E Global\\MSI0000",
             SYS32 + "svchost.exe", "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p -s DcomLaunch",
             n=9, user="NT AUTHORITY\\SYSTEM", il="System", utc="2025-11-26 05:11:27.908", pid="4200",
             ppid="812")
    d = [(k, int(v) if k in ("ProcessId", "ParentProcessId", "TerminalSessionId") else v) for k, v in d]
    e = ev(d, computer="swachchhanda", time=("2025-11-26T05:11:27", "927693000"))
    add("evtx-map: svchost.exe -> syswow64\\MsiExec.exe -Embedding", j(shapes.to_evtx_map(e)))
    # 10 flat: MSIEXEC.EXE, EventID "1" string
    e = ev(eid1(MSI, "MSIEXEC.EXE /i C:\\Users\\Public\\payload.msi /qn", CMD,
                "C:\\Windows\\system32\\cmd.exe /c MSIEXEC.EXE /i C:\\Users\\Public\\payload.msi /qn",
                n=10, utc="2023-08-16 04:54:54.772"), computer="MKT01.pandalab.com")
    add("flat: cmd.exe -> MSIEXEC.EXE (upper case); EventID \"1\" as a string",
        flat_otrf2023(e, eid_value="1"))
    # 11 winlogbeat raw without winlog.event_id (event.code fallback), pwsh parent
    e = ev(eid1(MSI, "msiexec /i https://download.example.net/agent/x.msi /qn",
                "C:\\Program Files\\PowerShell\\7\\pwsh.exe",
                '"C:\\Program Files\\PowerShell\\7\\pwsh.exe" -NoProfile -c "msiexec /i '
                'https://download.example.net/agent/x.msi /qn"', n=11, utc="2024-06-01 12:00:00.250"),
           computer="DESKTOP-HR.WICK.local")
    o = shapes.to_winlogbeat(e)
    del o["winlog"]["event_id"]
    add("winlogbeat 7 raw: no winlog.event_id, event.code 1 used; pwsh.exe parent", j(o))
    # 12 flat: dsregcmd.exe parent (unanchored regex: contains cmd.exe)
    e = ev(eid1(MSI, "msiexec.exe /x {34DB4181-0770-4B5A-B561-68758A077B0F} /qn",
                SYS32 + "dsregcmd.exe", "dsregcmd.exe /AzureSecureVMJoin /debug", n=12,
                user="NT AUTHORITY\\SYSTEM", utc="2023-08-16 05:01:10.100"), computer="MKT01.pandalab.com")
    add("flat: dsregcmd.exe parent matches (unanchored regex finds cmd.exe)", flat_otrf2023(e))
    # 13 winlogbeat6: spoolsv.exe parent
    e = ev(eid1(MSI, "msiexec /q /i \\\\10.0.0.5\\share\\driver.msi", SYS32 + "spoolsv.exe",
                "C:\\Windows\\System32\\spoolsv.exe", n=13, user="NT AUTHORITY\\SYSTEM", il="System",
                utc="2019-04-03 17:39:02.553"), computer="IT001.shire.com")
    add("winlogbeat6: spoolsv.exe parent, msiexec from UNC path", j(shapes.to_winlogbeat6(e)))
    # 14 evtx-list: winlogon.exe parent, Data entries without #text (empty values)
    d = eid1(MSI, "msiexec.exe /i C:\\ProgramData\\upd.msi /qn", SYS32 + "winlogon.exe", "winlogon.exe",
             n=14, user="NT AUTHORITY\\SYSTEM", il="System", utc="2024-10-26 15:13:47.355",
             RuleName="", Hashes="")
    e = ev(d, computer="DC01.corp.example", time=("2024-10-26T15:13:47", "355941200"))
    add("evtx-list: winlogon.exe parent; RuleName and Hashes entries without #text (absent)",
        j(shapes.to_evtx_list(e)))
    # 15 evtx-list with XML entities left in the JSON strings by a converter
    e = ev(eid1(MSI, 'msiexec /i "C:\\Temp\\a.msi" /qn &amp;&amp; echo done &gt; C:\\Temp\\log.txt', CMD,
                'cmd.exe /c "msiexec /i &quot;C:\\Temp\\a.msi&quot; /qn &amp;&amp; echo done"', n=15,
                utc="2024-10-26 15:20:01.000"), computer="DC01.corp.example")
    add("evtx-list: &amp; / &gt; / &quot; inside JSON strings stay as written (no XML unescaping in JSON)",
        j(shapes.to_evtx_list(e)))
    # 16 winlogbeat raw: token only after %20
    e = ev(eid1(SYS32 + "curl.exe", 'curl.exe -s -o C:\\Users\\Public\\r.txt "http://10.0.0.5/run?c=start%20msiexec%2Fq"',
                CMD, 'cmd.exe /c curl.exe -s -o C:\\Users\\Public\\r.txt "http://10.0.0.5/run?c=start%20msiexec%2Fq"',
                n=16, utc="2024-06-01 12:05:00.000", ofn="curl.exe", product="The curl executable"),
           computer="WS-ATOMIC02.corp.example")
    add("winlogbeat 7 raw: the only msiexec token follows %20 (URL-encoded major breaker)",
        j(shapes.to_winlogbeat(e)))
    # 17 flat: msiexec only in Message (the flat record has no ParentCommandLine field)
    d = eid1(SYS32 + "conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", CMD,
             "cmd.exe /c msiexec /q /i C:\\Users\\Public\\x.msi", n=17, hashes=HASH_CONHOST,
             product="Console Window Host", ofn="CONHOST.EXE", utc="2023-08-16 04:56:00.123")
    e = ev(d, computer="MKT01.pandalab.com")
    add("flat: msiexec appears only in the rendered Message (no ParentCommandLine field)",
        flat_otrf2023(e, drop=("ParentCommandLine",)))
    # 18 flat: no UtcTime, TimeGenerated with an offset
    d = eid1(MSI, "msiexec /i C:\\Temp\\b.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\b.msi /qn", n=18,
             drop=("UtcTime",))
    e = ev(d, computer="WORKSTATION6.mssentinel.local")
    add("flat: no UtcTime; TimeGenerated 2024-05-14T11:12:33.417+02:00 (RFC3339 offset) is the time",
        flat_sd2(e, extra={"TimeGenerated": "2024-05-14T11:12:33.417+02:00"}))
    # 19 flat: no UtcTime, no TimeGenerated: @timestamp
    d = eid1(MSI, "msiexec /i C:\\Temp\\c.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\c.msi /qn", n=19,
             drop=("UtcTime",))
    e = ev(d, computer="MKT01.pandalab.com")
    add("flat: no UtcTime and no TimeGenerated: @timestamp is the time (before TimeCreated)",
        flat_otrf2023(e, extra={"TimeCreated": "2023-08-15T09:54:54.782Z", "@timestamp": "2023-08-16T04:54:54.782Z"}))
    # 20 flat: only TimeCreated
    d = eid1(MSI, "msiexec /i C:\\Temp\\d.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\d.msi /qn", n=20,
             drop=("UtcTime",))
    e = ev(d, computer="MKT01.pandalab.com")
    add("flat: only TimeCreated (9 fraction digits) is the time",
        flat_otrf2023(e, drop=("@timestamp",), extra={"TimeCreated": "2023-08-16T04:55:01.123456789Z"}))
    # 21 evtx-map: no UtcTime, 9-digit SystemTime
    d = eid1(MSI, "msiexec /i C:\\Temp\\e.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\e.msi /qn", n=21,
             drop=("UtcTime",), pid="3001", ppid="2990")
    d = [(k, int(v) if k in ("ProcessId", "ParentProcessId") else v) for k, v in d]
    e = ev(d, computer="srv-01.midgardnet.tech", time=("2026-03-20T08:31:26", "751156500"))
    o = shapes.to_evtx_map(e)
    o["Event"]["System"]["TimeCreated"]["#attributes"]["SystemTime"] = "2026-03-20T08:31:26.751156500Z"
    add("evtx-map: no UtcTime; TimeCreated #attributes SystemTime with 9 digits", j(o))
    # 22 winlogbeat6: no UtcTime, @timestamp fallback
    d = eid1(MSI, "msiexec /i C:\\Temp\\f.msi /qn", PS, "powershell.exe -c msiexec /i C:\\Temp\\f.msi /qn",
             n=22, drop=("UtcTime",))
    e = ev(d, computer="HFDC01.shire.com", time=("2019-04-03T17:40:00", "000000000"))
    add("winlogbeat6: no UtcTime; @timestamp (ms) is the time", j(shapes.to_winlogbeat6(e)))
    # 23 winlogbeat raw: UtcTime with 9 fraction digits
    e = ev(eid1(MSI, "msiexec /i C:\\Temp\\g.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\g.msi /qn",
                n=23, utc="2024-05-14 09:30:00.123456789"), computer="FILE001.shire.com")
    add("winlogbeat 7 raw: UtcTime with 9 fraction digits", j(shapes.to_winlogbeat(e)))
    # 24 flat with neither Channel nor provider (taken as Sysmon); Computer preferred to Hostname
    d = eid1(MSI, "msiexec /i C:\\Temp\\h.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\h.msi /qn", n=24,
             utc="2024-05-14 09:31:00.000")
    o = {"EventID": 1, "Computer": "endpoint-7.corp.example", "Hostname": "collector-1", "host": "collector-2"}
    o.update(d)
    add("flat: no Channel/SourceName/Provider (taken as Sysmon); Computer wins over Hostname", j(o))
    # 25 flat: Channel Security but provider Sysmon (one of them names Sysmon)
    e = ev(eid1(MSI, "msiexec /i C:\\Temp\\i.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\i.msi /qn",
                n=25, utc="2024-05-14 09:32:00.000"), computer="MKT01.pandalab.com", channel="Security")
    add("flat: Channel \"Security\" but SourceName Microsoft-Windows-Sysmon: selected (one names Sysmon)",
        flat_otrf2023(e))
    # 26 flat: lower-case channel, forward-slash ParentImage (basename unchanged)
    e = ev(eid1(MSI, "msiexec /i C:\\Temp\\j.msi /qn", "C:/Windows/System32/cmd.exe",
                "cmd.exe /c msiexec /i C:\\Temp\\j.msi /qn", n=26, utc="2024-05-14 09:33:00.000"),
           computer="MKT01.pandalab.com", channel="microsoft-windows-sysmon/operational")
    add("flat: channel in lower case; ParentImage with forward slashes keeps its full value as "
        "parent_process_name (add-on regex only strips backslash paths)", flat_otrf2023(e))
    # 27 flat: ParentImage without a directory, taskhost.exe (exact)
    e = ev(eid1(MSI, "msiexec /i C:\\Temp\\k.msi /qn", "taskhost.exe", "taskhost.exe", n=27,
                utc="2024-05-14 09:34:00.000"), computer="MKT01.pandalab.com")
    add("flat: ParentImage \"taskhost.exe\" (no directory) matches", flat_otrf2023(e))
    # 28 flat: parent with a second extension
    e = ev(eid1(MSI, "msiexec /i C:\\Temp\\l.msi /qn", "C:\\Tools\\cmd.exe.bak", "cmd.exe.bak", n=28,
                utc="2024-05-14 09:35:00.000"), computer="MKT01.pandalab.com")
    add("flat: ParentImage C:\\Tools\\cmd.exe.bak -> basename cmd.exe.bak, regex finds cmd.exe",
        flat_otrf2023(e))
    # 29 flat: fields absent/null/empty are omitted
    d = eid1(MSI, "msiexec /i C:\\Temp\\m.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\m.msi /qn", n=29,
             utc="2024-05-14 09:36:00.000", drop=("User", "Hashes"), CurrentDirectory="")
    e = ev(d, computer="MKT01.pandalab.com")
    add("flat: User and Hashes absent, CurrentDirectory \"\", IntegrityLevel null -> omitted",
        flat_otrf2023(e, extra={"IntegrityLevel": None}))
    # 30 winlogbeat-ecs: user.name only; event_data has User -> event_data wins
    e = ev(eid1(MSI, "msiexec /i C:\\Temp\\n.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\n.msi /qn",
                n=30, utc="2024-05-14 09:37:00.000", user="CORP\\svc_deploy"), computer="WS-ATOMIC04.corp.example")
    o = shapes.to_ecs(e, "ws-atomic04")
    o["winlog"]["event_data"]["User"] = "CORP\\svc_deploy"
    o["user"] = {"name": "other_name", "id": "S-1-5-18"}
    add("winlogbeat-ecs: winlog.event_data.User present -> used, not user.*", j(o))
    e = ev(eid1(MSI, "msiexec /i C:\\Temp\\o.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\o.msi /qn",
                n=31, utc="2024-05-14 09:38:00.000", user="analyst"), computer="WS-ATOMIC04.corp.example")
    o = shapes.to_ecs(e, "WECServer")
    add("winlogbeat-ecs: user.name only (no user.domain) -> user is the name alone", j(o))
    # 32 winlogbeat raw with a top-level process object AND event_data.Image: not ECS
    e = ev(eid1(MSI, "msiexec /i C:\\Temp\\p.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\p.msi /qn",
                n=32, utc="2024-05-14 09:39:00.000"), computer="WS-ATOMIC02.corp.example")
    o = shapes.to_winlogbeat(e)
    o["process"] = {"pid": 1, "executable": "C:\\wrong\\notthis.exe", "parent": {"executable": "C:\\wrong\\x.exe"}}
    add("winlogbeat: top-level process object but event_data has Image -> raw winlogbeat shape, "
        "event_data values used", j(o))
    # 33 winlogbeat6 with string event_id "1" and mixed case channel
    e = ev(eid1(MSI, "msiexec /i C:\\Temp\\q.msi /qn", SYS32 + "wininit.exe", "wininit.exe", n=33,
                utc="2019-04-03 17:41:00.000", user="NT AUTHORITY\\SYSTEM"), computer="HR001.shire.com",
           channel="Microsoft-Windows-SYSMON/Operational")
    o = shapes.to_winlogbeat6(e)
    o["event_id"] = "1"
    add("winlogbeat6: event_id \"1\" string; wininit.exe parent; channel case", j(o))
    return R


def traps():
    R = []

    def add(note, line):
        R.append((note, line))

    base = dict(n=40, utc="2024-05-14 10:00:00.000")
    M = "msiexec /i C:\\Temp\\t.msi /qn"
    PM = "cmd.exe /c msiexec /i C:\\Temp\\t.msi /qn"

    e = ev(eid1(MSI, M, CMD, PM, **base), computer="MKT01.pandalab.com", channel="security",
           provider="Microsoft-Windows-Security-Auditing")
    add("flat: Channel \"security\" + Security-Auditing provider, EID 1, msiexec -> nomatch", flat_otrf2023(e))
    e = ev(eid1(MSI, M, CMD, PM, **base), computer="MKT01.pandalab.com", channel=None,
           provider="Microsoft-Windows-Security-Auditing")
    add("flat: no Channel, provider not Sysmon -> nomatch", flat_otrf2023(e, drop=("Channel",)))
    d = [("RuleName", "-"), ("UtcTime", "2024-05-14 10:01:00.000"), ("SourceProcessGUID", guid(41)),
         ("SourceProcessId", "5120"), ("SourceThreadId", "5124"), ("SourceImage", CMD),
         ("TargetProcessGUID", guid(42)), ("TargetProcessId", "5200"), ("TargetImage", MSI),
         ("GrantedAccess", "0x1fffff"), ("CallTrace", "C:\\Windows\\SYSTEM32\\ntdll.dll+9d234"),
         ("SourceUser", "ATOMIC\\analyst"), ("TargetUser", "ATOMIC\\analyst")]
    add("flat: Sysmon EID 10 with TargetImage msiexec.exe -> nomatch",
        flat_otrf2023(ev(d, eid=10, computer="MKT01.pandalab.com")))
    d = [("RuleName", "-"), ("EventType", "SetValue"), ("UtcTime", "2023-08-16 04:55:09.695"),
         ("ProcessGuid", guid(43)), ("ProcessId", "1724"), ("Image", SYS32 + "CompatTelRunner.exe"),
         ("TargetObject", "\\REGISTRY\\A\\{637b53f9}\\Root\\InventoryApplication\\0000ca9d\\UninstallString"),
         ("Details", "MsiExec.exe /I{34DB4181-0770-4B5A-B561-68758A077B0F}"), ("User", "NT AUTHORITY\\SYSTEM")]
    add("winlogbeat 7 raw: Sysmon EID 13 whose Details run MsiExec.exe -> nomatch",
        j(shapes.to_winlogbeat(ev(d, eid=13, computer="HFDC01.shire.com"))))
    d = [(k, int(v) if k in ("ProcessId", "ParentProcessId") else v)
         for k, v in eid1("C:\\Tools\\msiexecutor.exe", "msiexecutor.exe --run C:\\Temp\\t.msi", CMD,
                          "cmd.exe /c msiexecutor.exe --run C:\\Temp\\t.msi", ofn="msiexecutor.exe", pid="4100", ppid="4000", **base)]
    add("evtx-map: msiexecutor.exe (no msiexec token) -> nomatch",
        j(shapes.to_evtx_map(ev(d, computer="swachchhanda", time=("2024-05-14T10:00:00", "000100000")))))
    add("evtx-list: xmsiexec.exe (no msiexec token) -> nomatch",
        j(shapes.to_evtx_list(ev(eid1("C:\\Tools\\xmsiexec.exe", "xmsiexec.exe /i C:\\Temp\\t.xmsi", CMD,
                                      "cmd.exe /c xmsiexec.exe /i C:\\Temp\\t.xmsi", ofn="xmsiexec.exe", **base), computer="ws-atomic03"))))
    add("flat: taskhostw.exe parent -> nomatch (taskhost\\.exe does not match taskhostw.exe)",
        flat_otrf2023(ev(eid1(MSI, M, SYS32 + "taskhostw.exe", "taskhostw.exe", **base),
                         computer="MKT01.pandalab.com")))
    add("winlogbeat6: powershell_ise.exe parent -> nomatch",
        j(shapes.to_winlogbeat6(ev(eid1(MSI, M, "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell_ise.exe",
                                        "powershell_ise.exe", **base), computer="IT001.shire.com"))))
    add("flat: ParentImage \"-\" (parent gone) -> nomatch",
        flat_nxlog(ev(eid1(MSI, M, "-", "-", **base), computer="WORKSTATION6.theshire.local")))
    add("flat: no ParentImage -> nomatch",
        flat_otrf2023(ev(eid1(MSI, M, CMD, PM, drop=("ParentImage",), **base), computer="MKT01.pandalab.com")))
    add("flat: ParentImage null -> nomatch",
        flat_otrf2023(ev(eid1(MSI, M, CMD, PM, **base), computer="MKT01.pandalab.com"),
                      extra={"ParentImage": None}))
    add("evtx-map: ParentImage \"\" -> nomatch",
        j(shapes.to_evtx_map(ev(eid1(MSI, M, "", PM, **base), computer="swachchhanda"))))
    # missing host
    add("flat (NXLog): no Hostname/Computer, only the collector `host` -> error missing_host",
        flat_nxlog(ev(eid1(MSI, M, CMD, PM, **base), computer=None), drop=("Hostname",)))
    add("winlogbeat6: no computer_name, only host.name/beat.hostname collectors -> error missing_host",
        edit(shapes.to_winlogbeat6(ev(eid1(MSI, M, CMD, PM, **base), computer="x")),
             lambda o: o.pop("computer_name")))
    add("evtx-list: no Computer -> error missing_host",
        j(shapes.to_evtx_list(ev(eid1(MSI, M, CMD, PM, **base), computer=None))))
    add("winlogbeat-ecs: winlog.computer_name \"\" (host.name present) -> error missing_host",
        edit(shapes.to_ecs(ev(eid1(MSI, M, CMD, PM, **base), computer="ws1"), "ws1"),
             lambda o: o["winlog"].__setitem__("computer_name", "")))
    add("flat: Computer \"   \" (blank) and no Hostname -> error missing_host",
        j(dict([("EventID", 1), ("Channel", shapes.SYSMON_CHANNEL), ("Computer", "   ")]
               + eid1(MSI, M, CMD, PM, **base))))
    # bad time
    add("flat: UtcTime \"2024-05-14 25:61:00.000\" (out of range) -> error bad_time",
        flat_otrf2023(ev(eid1(MSI, M, CMD, PM, n=40, utc="2024-05-14 25:61:00.000"),
                         computer="MKT01.pandalab.com", time=("2024-05-14T10:00:00", "0"))))
    add("winlogbeat 7 raw: UtcTime \"14/05/2024 10:00:00\" unparseable while @timestamp is fine -> "
        "error bad_time (no fallback past a present UtcTime)",
        j(shapes.to_winlogbeat(ev(eid1(MSI, M, CMD, PM, n=40, utc="14/05/2024 10:00:00"),
                                  computer="HFDC01.shire.com", time=("2024-05-14T10:00:00", "0")))))
    add("flat (NXLog): no UtcTime/TimeGenerated/@timestamp/TimeCreated, only EventTime -> error bad_time",
        flat_nxlog(ev(eid1(MSI, M, CMD, PM, drop=("UtcTime",), **base), computer="WORKSTATION6"),
                   drop=("@timestamp",)))
    add("flat: no time field at all and no host -> error missing_host (host is checked first)",
        j(dict([("EventID", 1), ("SourceName", shapes.SYSMON)] + eid1(MSI, M, CMD, PM, drop=("UtcTime",), **base))))
    add("flat: UtcTime \"2024-02-30 10:00:00.000\" (no such day) -> error bad_time",
        j(dict([("EventID", 1), ("Hostname", "MKT01.pandalab.com")]
               + eid1(MSI, M, CMD, PM, n=40, utc="2024-02-30 10:00:00.000"))))
    # parse errors / shapes
    add("invalid JSON (truncated) containing msiexec -> error malformed",
        '{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Image": "C:\\\\Windows\\\\System32\\\\msiexec.exe", "ParentImage": "C:\\\\Windows\\\\System32\\\\cmd.exe"')
    add("invalid JSON (single quotes) containing msiexec -> error malformed",
        "{'EventID': 1, 'Image': 'C:\\\\Windows\\\\System32\\\\msiexec.exe'}")
    add("invalid JSON (NaN) containing msiexec -> error malformed",
        '{"EventID": 1, "Hostname": "h", "Score": NaN, "Image": "C:\\\\Windows\\\\System32\\\\msiexec.exe"}')
    add("invalid JSON (second value after the object) containing msiexec -> error malformed",
        '{"EventID": 1, "Image": "msiexec.exe"} {"EventID": 1}')
    add("invalid JSON without the token -> nomatch (errors only for records passing the token test)",
        '{"EventID": 1, "Image": "C:\\\\Windows\\\\System32\\\\cmd.exe", ')
    add("JSON array containing msiexec -> error unknown_shape",
        '[{"EventID": 1, "Image": "C:\\\\Windows\\\\System32\\\\msiexec.exe", "ParentImage": "C:\\\\Windows\\\\System32\\\\cmd.exe", "Computer": "h"}]')
    add("JSON string \"msiexec /i x.msi\" -> error unknown_shape", '"msiexec /i x.msi"')
    add("JSON object of no shape with msiexec -> error unknown_shape",
        j({"message": "Process Create: msiexec /i C:\\Temp\\t.msi", "host": {"name": "ws1"},
           "@timestamp": "2024-05-14T10:00:00.000Z"}))
    add("object whose Event is a string (not an object), no other shape key -> error unknown_shape",
        j({"Event": "msiexec /i C:\\Temp\\t.msi", "Computer": "ws1"}))
    add("winlogbeat6-like record with user_data instead of event_data (real WB6 records look like this) "
        "-> error unknown_shape",
        j({"@timestamp": "2019-04-03T17:37:36.435Z", "user_data": {"HostProcess": "msiexec.exe"},
           "event_id": 5857, "computer_name": "IT001.shire.com", "log_name": "Microsoft-Windows-WMI-Activity/Operational",
           "source_name": "Microsoft-Windows-WMI-Activity", "host": {"name": "WECserver"}}))
    add("JSON array without the token -> nomatch", '[1, 2, "cmd.exe"]')
    # token subtleties
    add("JSON escape \\u006dsiexec: the decoded value says msiexec but the raw bytes do not -> nomatch",
        flat_otrf2023(ev(eid1(SYS32 + "\\u006dsiexec.exe", "\\u006dsiexec /i C:\\Temp\\t.msi", CMD,
                              "cmd.exe /c \\u006dsiexec /i C:\\Temp\\t.msi", ofn="\\u006dsiexec.exe", **base), computer="MKT01.pandalab.com"),
                      drop=("Message",)).replace("\\\\u006d", "\\u006d"))
    add("mojibake directly before msiexec (\u00c2msiexec): not a token -> nomatch",
        flat_otrf2023(ev(eid1(SYS32 + "\u00c2msiexec.exe", "\u00c2msiexec /i C:\\Temp\\t.msi", CMD,
                              "cmd.exe /c \u00c2msiexec /i C:\\Temp\\t.msi", ofn="\u00c2msiexec.exe", **base), computer="MKT01.pandalab.com")))
    add("URL-encoded / (%2F) and \\ (%5C) before msiexec are not major breakers -> nomatch",
        j(shapes.to_winlogbeat(ev(eid1(SYS32 + "curl.exe", 'curl.exe "http://10.0.0.5/a%2Fmsiexec%5Cmsiexec"', CMD,
                                       'cmd.exe /c curl.exe "http://10.0.0.5/a%2Fmsiexec%5Cmsiexec"', ofn="curl.exe", **base),
                                  computer="WS-ATOMIC02.corp.example"))))
    add("lower-case URL-encoded space %20 then MSIEXEC, EventID 1, cmd parent -> match",
        j(shapes.to_winlogbeat(ev(eid1(SYS32 + "curl.exe", 'curl.exe "http://10.0.0.5/q?x=a%20MSIEXEC"', CMD,
                                       'cmd.exe /c curl.exe "http://10.0.0.5/q?x=a%20MSIEXEC"', ofn="curl.exe", **base),
                                  computer="WS-ATOMIC02.corp.example"))))
    # event ids
    for eidv, note in ((10, "int 10"), ("10", "string \"10\""), (11, "int 11")):
        add("flat: EventID %s with msiexec and cmd.exe parent -> nomatch" % note,
            flat_otrf2023(ev(eid1(MSI, M, CMD, PM, **base), computer="MKT01.pandalab.com"), eid_value=eidv))
    add("winlogbeat 7 raw: winlog.event_id 13 while event.code says 1 -> event_id wins -> nomatch",
        edit(shapes.to_winlogbeat(ev(eid1(MSI, M, CMD, PM, **base), computer="HFDC01.shire.com")),
             lambda o: o["winlog"].__setitem__("event_id", 13)))
    # errors only for selected records
    add("flat: not Sysmon and no host -> nomatch (no missing_host for unselected records)",
        flat_otrf2023(ev(eid1(MSI, M, CMD, PM, **base), computer="h", channel="Application",
                         provider="MsiInstaller"), drop=("Hostname",)))
    add("flat: Sysmon EID 1, cmd.exe parent, no msiexec anywhere -> nomatch",
        flat_otrf2023(ev(eid1(SYS32 + "whoami.exe", "whoami /all", CMD, "cmd.exe /c whoami /all",
                              hashes=HASH_CONHOST, ofn="whoami.exe", product="whoami", **base),
                         computer="MKT01.pandalab.com")))
    return R


def edges():
    """Corner cases whose expectation follows from a decision documented in
    scripts/oracle/README.md (so both implementations agree on them)."""
    R = []

    def add(note, line):
        R.append((note, line))

    M = "msiexec /i C:\\Temp\\e.msi /qn"
    PM = "cmd.exe /c msiexec /i C:\\Temp\\e.msi /qn"

    def flat(utc="2024-05-14 12:00:00.000", host="WS-EDGE01", drop=(), **kw):
        o = {"EventID": 1, "Channel": shapes.SYSMON_CHANNEL, "Hostname": host}
        o.update(eid1(MSI, M, CMD, PM, n=80, utc=utc, drop=drop))
        for k, v in kw.items():
            o[k] = v
        return o

    add("time: UtcTime 0000-01-01 (before int64 Unix nanoseconds) -> bad_time", j(flat(utc="0000-01-01 00:00:00.000")))
    add("time: UtcTime 2263-01-01 (after int64 Unix nanoseconds) -> bad_time", j(flat(utc="2263-01-01 00:00:00.000")))
    add("time: UtcTime 1677-09-21 00:12:43.145224192 (earliest int64 ns) -> match",
        j(flat(utc="1677-09-21 00:12:43.145224192")))
    add("time: UtcTime 1677-09-21 00:12:43.145224191 (1 ns too early) -> bad_time",
        j(flat(utc="1677-09-21 00:12:43.145224191")))
    add("time: UtcTime with 10 fraction digits -> truncated to nanoseconds",
        j(flat(utc="2024-05-14 12:00:00.1234567891")))
    add("time: no UtcTime, @timestamp in lower case 2024-05-14t12:00:01.5z (RFC 3339 allows it)",
        j(flat(drop=("UtcTime",), **{"@timestamp": "2024-05-14t12:00:01.5z"})))
    add("time: no UtcTime, TimeGenerated with -03:30 offset",
        j(flat(drop=("UtcTime",), TimeGenerated="2024-05-14T08:30:02.000000001-03:30")))
    add("time: UtcTime \"\" counts as absent -> @timestamp is the time",
        j(flat(utc="", **{"@timestamp": "2024-05-14T12:00:03.000Z"})))
    add("time: UtcTime \" \" (a blank, not empty) is present and unparseable -> bad_time",
        j(flat(utc=" ", **{"@timestamp": "2024-05-14T12:00:03.000Z"})))
    add("time: no UtcTime; TimeGenerated present but unparseable; @timestamp fine -> bad_time "
        "(the first present fallback decides)",
        j(flat(drop=("UtcTime",), TimeGenerated="n/a", **{"@timestamp": "2024-05-14T12:00:04.000Z"})))
    add("record starting with a UTF-8 byte order mark -> read as JSON, match", "\ufeff" + j(flat()))
    add("record starting with spaces -> match", "   " + j(flat()))
    add("host \" WS-EDGE01 \" is kept as written (not trimmed)", j(flat(host=" WS-EDGE01 ")))
    add("numbers as written: ProcessId 1e3 -> \"1e3\", ParentProcessId -0 -> \"-0\"",
        j(flat(ProcessId=1000, ParentProcessId=0)).replace('"ProcessId":1000', '"ProcessId":1e3')
        .replace('"ParentProcessId":0', '"ParentProcessId":-0'))
    add("lone UTF-16 surrogate escape in CommandLine -> U+FFFD in the output",
        j(flat()).replace('"CommandLine":"msiexec', '"CommandLine":"\\ud800msiexec'))
    add("flat: EventID {\"#text\": \"1\"} (the #text form is only read in EVTX shapes) -> nomatch",
        j(flat(EventID={"#text": "1"})))
    e = ev(eid1(MSI, M, CMD, PM, n=81, utc="2024-05-14 12:00:05.000"), computer="WS-EDGE02")
    o = shapes.to_evtx_map(e)
    o["Event"]["System"]["EventID"] = {"#attributes": {"Qualifiers": 0}, "#text": 1}
    add("evtx-map: EventID {\"#attributes\": {...}, \"#text\": 1} -> match", j(o))
    o = shapes.to_evtx_list(e)
    o["Event"]["System"]["EventID"] = {"@Qualifiers": "", "#text": "1"}
    add("evtx-list: EventID {\"@Qualifiers\": \"\", \"#text\": \"1\"} -> match", j(o))
    o = shapes.to_evtx_list(e)
    o["Event"]["EventData"]["Data"].insert(0, {"@Name": "Image"})
    o["Event"]["EventData"]["Data"].insert(1, {"@Name": "User", "#text": "EDGE\\first"})
    o["Event"]["EventData"]["Data"].append({"@Name": "User", "#text": "EDGE\\second"})
    add("evtx-list: duplicate Data names: the first non-empty entry wins (Image empty first; "
        "User first)", j(o))
    o = shapes.to_evtx_list(e)
    o["Event"]["EventData"]["Data"] = {"@Name": "ParentImage", "#text": "C:\\Windows\\System32\\cmd.exe"}
    o["Event"]["System"]["Channel"] = "Microsoft-Windows-Sysmon/Operational msiexec"
    add("evtx-list: Data is a single object (not a list) -> list form with one field", j(o))
    o = {"Event": {"System": {"EventID": 1, "Computer": "WS-EDGE02", "Channel": shapes.SYSMON_CHANNEL},
                   "EventData": None}, "ParentImage": CMD, "Image": MSI}
    add("evtx-map: EventData null -> no fields, no ParentImage -> nomatch", j(o))
    o = shapes.to_winlogbeat(e)
    o["winlog"]["event_id"] = None
    add("winlogbeat: winlog.event_id null -> event.code 1 used -> match", j(o))
    o = shapes.to_ecs(e, "WECServer")
    o["winlog"]["event_data"]["Image"] = ""
    add("winlogbeat-ecs: event_data.Image \"\" counts as absent -> still ECS, process.executable used", j(o))
    o = shapes.to_ecs(e, "WECServer")
    o["user"] = {"domain": "", "name": "edgeuser"}
    add("winlogbeat-ecs: user.domain \"\" -> user is the name alone", j(o))
    o = shapes.to_ecs(e, "WECServer")
    o["user"] = {"domain": "EDGE"}
    add("winlogbeat-ecs: user.domain without user.name -> no user", j(o))
    return R


def xml_cases():
    R = []

    def add(note, line):
        R.append((note, line))

    e = ev(eid1(SYS32 + "conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", CMD,
                'cmd.exe /c msiexec /q /i "%sT1218.007_JScript.msi"' % ART, n=60, hashes=HASH_CONHOST,
                product="Console Window Host", ofn="CONHOST.EXE", utc="2024-05-14 11:00:00.001"),
           computer="WS-ATOMIC01.corp.example", record_id=900001)
    add("xml: cmd.exe -> conhost.exe, ParentCommandLine runs msiexec (&quot; escaped) -> match", shapes.to_xml(e))
    e = ev(eid1(MSI, "C:\\Windows\\System32\\MsiExec.exe -Embedding 5C5B3A3D1C0E6D5E8F0F2AF5B5E5D9C1 C",
                SYS32 + "svchost.exe", "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p", n=61,
                user="NT AUTHORITY\\SYSTEM", il="System", utc="2024-05-14 11:01:00.002"),
           computer="WS-ATOMIC01.corp.example", record_id=900002)
    add("xml: double-quoted attributes; svchost.exe -> MsiExec.exe -Embedding -> match", shapes.to_xml(e, q='"'))
    e = ev(eid1(MSI, "msiexec /i \"C:\\Users\\O'Brien\\Downloads\\setup.msi\" /qn & echo <done>", PS,
                "powershell.exe -c \"& {msiexec /i 'C:\\Users\\O''Brien\\Downloads\\setup.msi' /qn}\"", n=62,
                user="CORP\\o'brien", utc="2024-05-14 11:02:00.003"), computer="WS-ATOMIC05.corp.example")
    add("xml: &apos; &quot; &amp; &lt; &gt; in values are unescaped in the output -> match", shapes.to_xml(e))
    d = eid1(MSI, "msiexec /package C:\\Temp\\u.msi /quiet", CMD, "cmd.exe /c msiexec /package C:\\Temp\\u.msi /quiet",
             n=63, drop=("UtcTime",))
    e = ev(d, computer="WS-ATOMIC05.corp.example", time=("2024-05-14T11:03:04", "567890100"))
    add("xml: no UtcTime Data -> TimeCreated SystemTime (7 digits) is the time", shapes.to_xml(e))
    e = ev(eid1(MSI, "msiexec /i C:\\Temp\\v.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\v.msi /qn", n=64,
                utc="2024-05-14 11:04:00.000"), computer="WS-ATOMIC05.corp.example", channel="security",
           provider="Microsoft-Windows-Security-Auditing")
    add("xml: Channel security, EventID 1, msiexec -> nomatch", shapes.to_xml(e))
    d = [("RuleName", "-"), ("EventType", "SetValue"), ("UtcTime", "2024-05-14 11:05:00.000"),
         ("ProcessGuid", guid(65)), ("ProcessId", "1724"), ("Image", SYS32 + "CompatTelRunner.exe"),
         ("TargetObject", "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{34DB4181}\\UninstallString"),
         ("Details", "MsiExec.exe /X{34DB4181-0770-4B5A-B561-68758A077B0F}"), ("User", "NT AUTHORITY\\SYSTEM")]
    add("xml: EID 13 with MsiExec.exe in Details -> nomatch", shapes.to_xml(ev(d, eid=13, computer="WS-ATOMIC05")))
    e = ev(eid1(MSI, "msiexec /i C:\\Temp\\w.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\w.msi /qn", n=66,
                utc="2024-05-14 11:06:00.000"), computer="WS-ATOMIC05")
    add("xml: <EventID Qualifiers=''>1</EventID>: the literal <EventID>1< is absent -> nomatch",
        shapes.to_xml(e).replace("<EventID>1</EventID>", "<EventID Qualifiers=''>1</EventID>"))
    add("xml: no <Computer> -> error missing_host",
        shapes.to_xml(ev(eid1(MSI, "msiexec /i C:\\Temp\\x.msi /qn", CMD, "cmd.exe", n=67,
                              utc="2024-05-14 11:07:00.000"), computer=None)))
    add("xml: empty <Computer></Computer> -> error missing_host",
        shapes.to_xml(ev(eid1(MSI, "msiexec /i C:\\Temp\\x.msi /qn", CMD, "cmd.exe", n=68,
                              utc="2024-05-14 11:07:01.000"), computer="")))
    add("xml: UtcTime 'yesterday' -> error bad_time",
        shapes.to_xml(ev(eid1(MSI, "msiexec /i C:\\Temp\\y.msi /qn", CMD, "cmd.exe", n=69, utc="yesterday"),
                         computer="WS-ATOMIC05", time=("2024-05-14T11:08:00", "0"))))
    good = shapes.to_xml(ev(eid1(MSI, "msiexec /i C:\\Temp\\z.msi /qn", CMD, "cmd.exe", n=70,
                                 utc="2024-05-14 11:09:00.000"), computer="WS-ATOMIC05"))
    add("xml: truncated line (no closing tags) containing msiexec -> error malformed", good[: good.index("</EventData>")])
    add("xml: raw & in a value -> error malformed",
        good.replace("/i C:\\Temp\\z.msi /qn", "/i C:\\Temp\\z.msi /qn & echo"))
    add("xml: well-formed, root <Events> (not Event) -> error unknown_shape",
        "<Events>" + good + "</Events>")
    add("xml: malformed without the token -> nomatch", "<Event><System><EventID>1</EventID></System>")
    add("xml: ParentImage - -> nomatch",
        shapes.to_xml(ev(eid1(MSI, "msiexec /i C:\\Temp\\a1.msi /qn", "-", "-", n=71,
                              utc="2024-05-14 11:10:00.000"), computer="WS-ATOMIC05")))
    d = eid1(MSI, "msiexec /i C:\\Temp\\a2.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\a2.msi /qn", n=72,
             utc="2024-05-14 11:11:00.000", User="", Hashes="")
    add("xml: self-closing empty <Data Name='User'/> and <Data Name='Hashes'/> -> fields omitted; match",
        shapes.to_xml(ev(d, computer="WS-ATOMIC05"), empty_style="self"))
    d = eid1(MSI, "msiexec /i C:\\Temp\\a3.msi /qn", CMD, "cmd.exe /c msiexec /i C:\\Temp\\a3.msi /qn", n=73,
             utc="2024-05-14 11:12:00.000")
    add("xml: EventID 10 with msiexec -> nomatch",
        shapes.to_xml(ev(d, eid=10, computer="WS-ATOMIC05")))
    d = eid1(MSI, "msiexec /i C:\\Temp\\a4.msi /qn", SYS32 + "dsregcmd.exe", "dsregcmd.exe /join", n=74,
             utc="2024-05-14 11:13:00.000", Product="Microsoft\u00c2\u00ae Windows\u00c2\u00ae Operating System")
    add("xml without xmlns, double quotes; dsregcmd.exe parent; mojibake Product -> match",
        shapes.to_xml(ev(d, computer="WS-ATOMIC05"), q='"').replace(' xmlns="%s"' % shapes.XMLNS, ""))
    d = eid1(MSI, "msiexec /i C:\\Temp\\a5.msi /qn", SYS32 + "taskhostw.exe", "taskhostw.exe", n=75,
             utc="2024-05-14 11:14:00.000")
    add("xml: taskhostw.exe parent -> nomatch", shapes.to_xml(ev(d, computer="WS-ATOMIC05")))
    d = eid1(MSI, "msiexec /i C:\\Temp\\a6.msi /qn", CMD, "cmd.exe", n=76, utc="2024-05-14 11:15:00.000")
    add("xml: Provider Name 'Microsoft-Windows-Sysmon', no <Channel> -> match",
        shapes.to_xml(ev(d, computer="WS-ATOMIC05", channel=None)))
    d = eid1(MSI, "msiexec /i C:\\Temp\\a7.msi /qn", CMD, "cmd.exe", n=77, utc="2024-05-14 11:16:00.000")
    x = shapes.to_xml(ev(d, computer="WS-ATOMIC05"))
    add("xml: starts with a UTF-8 byte order mark -> match", "\ufeff" + x)
    add("xml: starts with spaces -> match", "  " + x)
    add("xml: XML declaration before <Event> -> match", "<?xml version='1.0' encoding='UTF-8'?>" + x)
    add("xml: comment before <Event> -> match", "<!-- forwarded -->" + x)
    d = eid1(MSI, "msiexec /i C:\\Temp\\a8.msi /qn", CMD, "cmd.exe", n=78, utc="2024-05-14 11:17:00.000")
    x = shapes.to_xml(ev(d, computer="WS-ATOMIC05"))
    add("xml: duplicate Data names: the first non-empty wins (User empty, then two values)",
        x.replace("<Data Name='User'>", "<Data Name='User'></Data><Data Name='User'>", 1)
        .replace("</EventData>", "<Data Name='User'>EDGE\\second</Data></EventData>"))
    add("xml: character references &#109; &#x41; and &#13; in values are decoded",
        x.replace("a8.msi /qn</Data>", "a8.msi /qn &#109;&#x41;&#13;x</Data>", 1))
    add("xml: the only msiexec is written &#109;siexec in every value: no token in the raw text -> nomatch",
        x.replace("msiexec", "&#109;siexec"))
    return R


def write(case, input_name, records, term="msiexec"):
    d = os.path.join(ROOT, case)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, input_name), "w", encoding="utf-8", newline="\n") as fh:
        for _, line in records:
            assert "\n" not in line and "\r" not in line, line[:80]
            fh.write(line + "\n")
    with open(os.path.join(d, "rule.json"), "w") as fh:
        fh.write(json.dumps({"term": term}) + "\n")
    with open(os.path.join(d, "cases.md"), "w", encoding="utf-8") as fh:
        fh.write("# %s: what each line of %s is for\n\n" % (case, input_name))
        fh.write("Synthetic records (scripts/oracle/synthetic.py). Expected results are in want.jsonl "
                 "(from scripts/oracle/oracle.py), not here.\n\n")
        for i, (note, _) in enumerate(records, 1):
            fh.write("%d. %s\n" % (i, note))


def main():
    write("synthetic-positives", "input.jsonl", positives())
    write("synthetic-traps", "input.jsonl", traps())
    write("synthetic-xml", "input.xml.txt", xml_cases())
    write("synthetic-edges", "input.jsonl", edges())


if __name__ == "__main__":
    main()
