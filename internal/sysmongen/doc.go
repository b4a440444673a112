// Package sysmongen generates a realistic, deterministic stream of raw
// Sysmon records, as they appear on a Kafka topic, for tests, demos, load
// tests and benchmark files.
//
// A [Generator] is seeded (math/rand/v2 PCG): the same [Config] gives the
// same records, byte for byte. Each call to [Generator.Next] appends one
// record (one line of JSON or XML, no newline) to a buffer; [Generator.Meta]
// says what the record is (shape, host, event time, attack or not) and
// [Generator.Stats] counts what has been produced, including the number of
// (host, second) buckets holding attacks: the alerts a correct pipeline
// publishes.
//
// # What the stream holds
//
// Endpoints (Config.Hosts; DC01, SRV-..., WS-<dept>-NNNN, some named by
// FQDN and some by short name) each ship in one of the seven shapes of
// shared/reference/sysmon-formats.md, endpoint i in Config.Shapes[i %
// len]: Winlogbeat 7/8 raw, Winlogbeat with the sysmon module (ECS),
// Winlogbeat 6, flat (OTRF export, NXLog through Logstash, Sentinel export),
// EVTX-to-JSON in list and map forms, and raw XML with single-quoted
// attributes (XmlWinEventLog, sometimes with RenderingInfo). Records carry
// what real ones do: a rendered message (CRLF in the flat shapes), Hashes,
// LogonGuid and LogonId, the shipper's own host name (a WEC collector,
// NXLog's relay), envelope times off by hours (OTRF's -19 h, Sentinel's
// TimeCreated +8 h, NXLog's local EventTime), and non-ASCII text
// (Microsoft®, user names such as grace.o'brien or peggy.müller).
//
// The mix of Sysmon event ids follows real logs (mostly 10, 7, 12 and 13,
// then 3, 11, 1, 5, 18, 22, 23, 9); Config.ForeignRate adds Security (4624,
// 4688) and PowerShell (4104) events. Three kinds of record matter to the
// msiexec rule:
//
//   - attacks (Config.AttackRate), modelled on Atomic Red Team's T1218.007
//     launches: cmd.exe running msiexec /q /i on a local or remote .msi,
//     msiexec /y and /z on MSIRunner.dll, powershell.exe or pwsh.exe
//     installing LogMeInIgnition.msi or ScreenConnect.msi, and the conhost.exe
//     that cmd.exe starts, whose parent command line runs msiexec. An
//     incident puts one to five of them on one host in one second.
//   - decoys (Config.DecoyRate), which mention msiexec and must not match:
//     the Windows Installer service and MsiExec.exe -Embedding under
//     msiexec.exe or services.exe, a user's install under explorer.exe,
//     msiexec under taskhostw.exe (taskhost\.exe does not match it),
//     msiexecutor.exe under cmd.exe (not the token msiexec), registry values
//     MsiExec.exe /I{GUID}, images loaded, files created and processes
//     accessed by msiexec.
//   - noise: everything else, which never contains the token msiexec.
//
// Config.DeadLetterRate adds a fourth kind: attack records spoiled as real
// dead letters are (cut in half, without a computer name, with a UtcTime
// nothing parses), which the pipeline must dead-letter.
//
// # One renderer
//
// The renderers here are the only Sysmon renderers in Go (the oracle in
// scripts/oracle has its own, in Python, on purpose). Tests that need a
// record the generator does not make describe it as an [Event] and render
// it with [Event.Render]: the detector's tests through internal/sysmontest,
// the pipeline's tests directly; stream/streamtest draws the pipeline tests'
// streams from a Generator.
//
// # Imports
//
// The standard library only. In particular not the detector, whose own
// tests render records here; [Shape] mirrors detector.Shape by name and
// number.
//
// # Event time
//
// Record n is nominally at Config.Start + n/Config.EventsPerSecond; its
// UtcTime is that instant truncated to the millisecond, so a file of N
// records covers a known span of event time. Config.Jitter moves records
// back by up to the jitter (bounded disorder) and Config.LateRate sends a
// few records Config.Late behind. Without either, event times never
// decrease. The generator never reads the clock.
//
// # Speed
//
// Records are built with append-style code into reused buffers: Next does
// not allocate (except when an attack incident starts) and writes several
// hundred MB/s on one core. Run one Generator per goroutine, with distinct
// seeds, to go faster.
package sysmongen
