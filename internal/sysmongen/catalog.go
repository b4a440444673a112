package sysmongen

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// This file is the static world the generator draws from: program images,
// the processes that run on every host, and the templates of ordinary
// activity. Values are modelled on the real records described in
// shared/datasets/real/PROVENANCE.md.
//
// Templates may contain placeholders, expanded per record by expand:
//
//	{u} the host's interactive user name      {h} the host's short name
//	{d} the NetBIOS domain                     {s} the user's SID
//	{n} a small random number                  {p} a random process id
//	{g} a random GUID (upper case)             {x} 16 random hex digits
//	{X} 8 random upper-case hex digits

const (
	msCompany = "Microsoft Corporation"
	msProduct = "Microsoft® Windows® Operating System"
	// msProductMojibake is msProduct after a Latin-1/UTF-8 mix-up, as seen
	// in a few real NXLog records.
	msProductMojibake = "MicrosoftÂ® WindowsÂ® Operating System"
	winBuild          = " (WinBuild.160101.0800)"
)

// exe is a program image as Sysmon describes it.
type exe struct {
	path    string // as Sysmon's Image spells it
	name    string // the file name (Image after the last backslash)
	orig    string // OriginalFileName
	version string // FileVersion
	desc    string // Description
	product string // Product
	company string // Company
	hashes  string // Hashes: SHA1=...,MD5=...,SHA256=...,IMPHASH=...
}

// fakeHashes derives stable, well-formed (not real) hashes from a path.
func fakeHashes(path string) string {
	h := func(salt string, n int) string {
		sum := sha256.Sum256([]byte(salt + strings.ToLower(path)))
		return strings.ToUpper(hex.EncodeToString(sum[:]))[:n]
	}
	return "SHA1=" + h("sha1:", 40) + ",MD5=" + h("md5:", 32) + ",SHA256=" + h("sha256:", 64) + ",IMPHASH=" + h("imphash:", 32)
}

func newExe(path, orig, version, desc string) *exe {
	return newExeFull(path, orig, version+winBuild, desc, msProduct, msCompany)
}

func newExeFull(path, orig, version, desc, product, company string) *exe {
	return &exe{
		path: path, name: path[strings.LastIndexByte(path, '\\')+1:], orig: orig,
		version: version, desc: desc, product: product, company: company,
		hashes: fakeHashes(path),
	}
}

var (
	exeWininit    = newExe(`C:\Windows\System32\wininit.exe`, "WinInit.exe", "10.0.19041.1", "Windows Start-Up Application")
	exeWinlogon   = newExe(`C:\Windows\System32\winlogon.exe`, "WINLOGON.EXE", "10.0.19041.4170", "Windows Logon Application")
	exeCsrss      = newExe(`C:\Windows\System32\csrss.exe`, "CSRSS.Exe", "10.0.19041.1", "Client Server Runtime Process")
	exeServices   = newExe(`C:\Windows\System32\services.exe`, "services.exe", "10.0.19041.4239", "Services and Controller app")
	exeLsass      = newExe(`C:\Windows\System32\lsass.exe`, "lsass.exe", "10.0.19041.4355", "Local Security Authority Process")
	exeSvchost    = newExe(`C:\Windows\System32\svchost.exe`, "svchost.exe", "10.0.19041.1806", "Host Process for Windows Services")
	exeSpoolsv    = newExe(`C:\Windows\System32\spoolsv.exe`, "spoolsv.exe", "10.0.19041.4291", "Spooler SubSystem App")
	exeExplorer   = newExe(`C:\Windows\explorer.exe`, "EXPLORER.EXE", "10.0.19041.4355", "Windows Explorer")
	exeCmd        = newExe(`C:\Windows\System32\cmd.exe`, "Cmd.Exe", "10.0.19041.4355", "Windows Command Processor")
	exeConhost    = newExe(`C:\Windows\System32\conhost.exe`, "CONHOST.EXE", "10.0.19041.3996", "Console Window Host")
	exePowerShell = newExe(`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, "PowerShell.EXE", "10.0.19041.3996", "Windows PowerShell")
	exePwsh       = newExeFull(`C:\Program Files\PowerShell\7\pwsh.exe`, "pwsh.dll", "7.4.6.500", "pwsh", "PowerShell", msCompany)
	exeWmiPrvSE   = newExe(`C:\Windows\System32\wbem\WmiPrvSE.exe`, "Wmiprvse.exe", "10.0.19041.3636", "WMI Provider Host")
	exeTaskhostw  = newExe(`C:\Windows\System32\taskhostw.exe`, "taskhostw.exe", "10.0.19041.4239", "Host Process for Windows Tasks")
	exeRuntimeBr  = newExe(`C:\Windows\System32\RuntimeBroker.exe`, "RuntimeBroker.exe", "10.0.19041.3636", "Runtime Broker")
	exeBgTaskHost = newExe(`C:\Windows\System32\backgroundTaskHost.exe`, "backgroundTaskHost.exe", "10.0.19041.3636", "Background Task Host")
	exeCompatTel  = newExe(`C:\Windows\System32\CompatTelRunner.exe`, "CompatTelRunner.exe", "10.0.19041.3996", "Microsoft Compatibility Telemetry")
	exeDxgiCache  = newExe(`C:\Windows\System32\dxgiadaptercache.exe`, "DXGIAdapterCache.exe", "10.0.19041.3636", "DXGI Adapter Cache")
	exeDsregcmd   = newExe(`C:\Windows\System32\dsregcmd.exe`, "dsregcmd.exe", "10.0.19041.4291", "DSREG commandline extension")
	exeSearchProt = newExe(`C:\Windows\System32\SearchProtocolHost.exe`, "SearchProtocolHost.exe", "7.0.19041.4355", "Microsoft Windows Search Protocol Host")
	exeSearchIdx  = newExe(`C:\Windows\System32\SearchIndexer.exe`, "SearchIndexer.exe", "7.0.19041.4355", "Microsoft Windows Search Indexer")
	exeSihost     = newExe(`C:\Windows\System32\sihost.exe`, "sihost.exe", "10.0.19041.4170", "Shell Infrastructure Host")
	exeCtfmon     = newExe(`C:\Windows\System32\ctfmon.exe`, "CTFMON.EXE", "10.0.19041.3930", "CTF Loader")
	exeIpconfig   = newExe(`C:\Windows\System32\ipconfig.exe`, "ipconfig.exe", "10.0.19041.1", "IP Configuration Utility")
	exeWhoami     = newExe(`C:\Windows\System32\whoami.exe`, "whoami.exe", "10.0.19041.1", "whoami - displays logged on user information")
	exeNet        = newExe(`C:\Windows\System32\net.exe`, "net.exe", "10.0.19041.1", "Net Command")
	exePing       = newExe(`C:\Windows\System32\PING.EXE`, "ping.exe", "10.0.19041.1", "TCP/IP Ping Command")
	exeReg        = newExe(`C:\Windows\System32\reg.exe`, "reg.exe", "10.0.19041.1", "Registry Console Tool")
	exeTasklist   = newExe(`C:\Windows\System32\tasklist.exe`, "tasklist.exe", "10.0.19041.1", "Lists the current running tasks")
	exeGpupdate   = newExe(`C:\Windows\System32\gpupdate.exe`, "GPUpdate.exe", "10.0.19041.1", "Microsoft® Windows Group Policy Update Utility")
	exeLogonUI    = newExe(`C:\Windows\System32\LogonUI.exe`, "logonui.exe", "10.0.19041.1", "Windows Logon User Interface Host")
	exeSppsvc     = newExe(`C:\Windows\System32\sppsvc.exe`, "sppsvc.exe", "10.0.19041.3636", "Microsoft Software Protection Platform Service")
	exeTrustedIn  = newExe(`C:\Windows\servicing\TrustedInstaller.exe`, "TrustedInstaller.exe", "10.0.19041.3636", "Windows Modules Installer")
	exeTiWorker   = newExe(`C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.4355_none_7e2e5b0f7c6d2b51\TiWorker.exe`, "TiWorker.exe", "10.0.19041.4355", "Windows Modules Installer Worker")
	exeDllhost    = newExe(`C:\Windows\System32\dllhost.exe`, "dllhost.exe", "10.0.19041.546", "COM Surrogate")
	exeNotepad    = newExe(`C:\Windows\System32\notepad.exe`, "NOTEPAD.EXE", "10.0.19041.3996", "Notepad")
	exeMsMpEng    = newExeFull(`C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe`, "MsMpEng.exe", "4.18.24090.11 (WinBuild.160101.0800)", "Antimalware Service Executable", msProduct, msCompany)
	exeMpCmdRun   = newExeFull(`C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe`, "MpCmdRun.exe", "4.18.24090.11 (WinBuild.160101.0800)", "Microsoft Malware Protection Command Line Utility", msProduct, msCompany)
	exeSysmon     = newExeFull(`C:\Windows\Sysmon64.exe`, "-", "15.15", "System activity monitor", "Sysinternals Sysmon", "Sysinternals - www.sysinternals.com")
	exeVMTools    = newExeFull(`C:\Program Files\VMware\VMware Tools\vmtoolsd.exe`, "vmtoolsd.exe", "12.3.5.46049", "VMware Tools Core Service", "VMware Tools", "VMware, Inc.")
	exeChrome     = newExeFull(`C:\Program Files\Google\Chrome\Application\chrome.exe`, "chrome.exe", "131.0.6778.86", "Google Chrome", "Google Chrome", "Google LLC")
	exeEdge       = newExeFull(`C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`, "msedge.exe", "131.0.2903.70", "Microsoft Edge", "Microsoft Edge", msCompany)
	exeOneDrive   = newExeFull(`C:\Program Files\Microsoft OneDrive\OneDrive.exe`, "OneDrive.exe", "24.211.1020.0001", "Microsoft OneDrive", "Microsoft OneDrive", msCompany)
	exeTeams      = newExeFull(`C:\Program Files\WindowsApps\MSTeams_24295.606.3238.6194_x64__8wekyb3d8bbwe\ms-teams.exe`, "ms-teams.exe", "24295.606.3238.6194", "Microsoft Teams", "Microsoft Teams", msCompany)
	exeOutlook    = newExeFull(`C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`, "Outlook.exe", "16.0.18129.20158", "Microsoft Outlook", "Microsoft Outlook", msCompany)
	exeCode       = newExeFull(`C:\Users\{u}\AppData\Local\Programs\Microsoft VS Code\Code.exe`, "electron.exe", "1.95.3", "Visual Studio Code", "Visual Studio Code", msCompany)

	// Windows Installer, as benign software installs run it.
	exeMsiexec      = newExe(`C:\Windows\System32\msiexec.exe`, "msiexec.exe", "5.0.19041.3636", "Windows® installer")
	exeMsiexecWow64 = newExe(`C:\Windows\SysWOW64\msiexec.exe`, "msiexec.exe", "5.0.19041.3636", "Windows® installer")
	// A third-party tool whose name starts with msiexec but is a different
	// Splunk token: it must never match.
	exeMsiexecutor = newExeFull(`C:\Program Files\Contoso\Deploy\msiexecutor.exe`, "msiexecutor.exe", "2.4.1.0", "Contoso package executor", "Contoso Deploy", "Contoso Ltd.")
)

// dlls are images loaded by processes (Sysmon event 7).
var dlls = func() []*exe {
	list := []struct{ path, orig, desc string }{
		{`C:\Windows\System32\ntdll.dll`, "ntdll.dll", "NT Layer DLL"},
		{`C:\Windows\System32\kernel32.dll`, "kernel32", "Windows NT BASE API Client DLL"},
		{`C:\Windows\System32\KernelBase.dll`, "Kernelbase.dll", "Windows NT BASE API Client DLL"},
		{`C:\Windows\System32\ucrtbase.dll`, "ucrtbase.dll", "Microsoft® C Runtime Library"},
		{`C:\Windows\System32\msvcrt.dll`, "msvcrt.dll", "Windows NT CRT DLL"},
		{`C:\Windows\System32\rpcrt4.dll`, "rpcrt4.dll", "Remote Procedure Call Runtime"},
		{`C:\Windows\System32\combase.dll`, "COMBASE.DLL", "Microsoft COM for Windows"},
		{`C:\Windows\System32\sechost.dll`, "sechost.dll", "Host for SCM/SDDL/LSA Lookup APIs"},
		{`C:\Windows\System32\advapi32.dll`, "advapi32.dll", "Advanced Windows 32 Base API"},
		{`C:\Windows\System32\oleaut32.dll`, "oleaut", "OLEAUT32.DLL"},
		{`C:\Windows\System32\user32.dll`, "user32", "Multi-User Windows USER API Client DLL"},
		{`C:\Windows\System32\win32u.dll`, "Win32u", "Win32u"},
		{`C:\Windows\System32\gdi32.dll`, "gdi32", "GDI Client DLL"},
		{`C:\Windows\System32\gdi32full.dll`, "gdi32full", "GDI Client DLL"},
		{`C:\Windows\System32\shcore.dll`, "SHCORE.dll", "SHCORE"},
		{`C:\Windows\System32\imm32.dll`, "imm32", "Multi-User Windows IMM32 API Client DLL"},
		{`C:\Windows\System32\shell32.dll`, "SHELL32.DLL", "Windows Shell Common Dll"},
		{`C:\Windows\System32\uxtheme.dll`, "UxTheme.dll", "Microsoft UxTheme Library"},
		{`C:\Windows\System32\msctf.dll`, "MSCTF.DLL", "MSCTF Server DLL"},
		{`C:\Windows\System32\bcryptprimitives.dll`, "bcryptprimitives.dll", "Windows Cryptographic Primitives Library"},
		{`C:\Windows\System32\ws2_32.dll`, "ws2_32.dll", "Windows Socket 2.0 32-Bit DLL"},
		{`C:\Windows\System32\dwmapi.dll`, "dwmapi.dll", "Microsoft Desktop Window Manager API"},
		{`C:\Windows\System32\kernel.appcore.dll`, "kernel.appcore.dll", "AppModel API Host"},
		{`C:\Windows\System32\bcrypt.dll`, "BCrypt.dll", "Windows Cryptographic Primitives Library"},
		{`C:\Windows\System32\sspicli.dll`, "sspicli.dll", "Security Support Provider Interface"},
		{`C:\Windows\System32\userenv.dll`, "userenv.dll", "Userenv"},
		{`C:\Windows\System32\crypt32.dll`, "CRYPT32.DLL", "Crypto API32"},
		{`C:\Windows\System32\wldp.dll`, "wldp.dll", "Windows Lockdown Policy"},
		{`C:\Windows\System32\iphlpapi.dll`, "iphlpapi.dll", "IP Helper API"},
		{`C:\Windows\System32\ole32.dll`, "OLE32.DLL", "Microsoft OLE for Windows"},
		{`C:\Windows\System32\shlwapi.dll`, "SHLWAPI.DLL", "Shell Light-weight Utility Library"},
		{`C:\Windows\System32\cryptbase.dll`, "cryptbase", "Base cryptographic API DLL"},
		{`C:\Windows\System32\ncrypt.dll`, "ncrypt.dll", "Windows NCrypt Router"},
		{`C:\Windows\System32\fltLib.dll`, "filterLib.dll", "Filter Library"},
		{`C:\Windows\System32\wbem\wbemprox.dll`, "wbemprox.dll", "WMI"},
		{`C:\Windows\System32\wbem\fastprox.dll`, "FastProx.dll", "WMI Custom Marshaller"},
		{`C:\Windows\System32\amsi.dll`, "amsi.dll", "Anti-Malware Scan Interface"},
		{`C:\Windows\System32\winhttp.dll`, "winhttp.dll", "Windows HTTP Services"},
		{`C:\Windows\System32\dnsapi.dll`, "dnsapi", "DNS Client API DLL"},
		{`C:\Windows\System32\clbcatq.dll`, "CLBCATQ.DLL", "COM+ Configuration Catalog"},
		{`C:\Windows\System32\windows.storage.dll`, "Windows.Storage.dll", "Microsoft WinRT Storage API"},
		{`C:\Windows\WinSxS\amd64_microsoft.windows.common-controls_6595b64144ccf1df_6.0.19041.4355_none_60b8b3e571f1a7a2\comctl32.dll`, "comctl32.DLL", "User Experience Controls Library"},
	}
	out := make([]*exe, len(list))
	for i, d := range list {
		out[i] = newExe(d.path, d.orig, "10.0.19041.4355", d.desc)
	}
	return out
}()

// userKind says under which account a process runs.
type userKind uint8

const (
	uSystem userKind = iota
	uNetworkService
	uLocalService
	uUser // the host's interactive user
)

// resident is a long-running process present on every host; each host
// gives it its own GUID and PID.
type resident struct {
	exe       *exe
	cmd       string
	user      userKind
	integrity string
	parent    int // index in residents, -1 when the parent is gone
}

// Indices of residents, referred to by the templates below.
const (
	rWininit = iota
	rServices
	rLsass
	rSvcDcom
	rSvcSchedule
	rSvcNetwork
	rSvcLocal
	rSvcWU
	rWinlogon
	rCsrss
	rSpoolsv
	rMsMpEng
	rSysmon
	rWmiPrvSE
	rVMTools
	rSearchIdx
	rExplorer
	rChrome
	rEdge
	rOneDrive
	rTeams
	rOutlook
	rRuntimeBr
	rSihost
	rCtfmon
	rTaskhostw
	numResidents
)

var residents = [numResidents]resident{
	rWininit:     {exeWininit, "wininit.exe", uSystem, "System", -1},
	rServices:    {exeServices, `C:\Windows\system32\services.exe`, uSystem, "System", rWininit},
	rLsass:       {exeLsass, `C:\Windows\system32\lsass.exe`, uSystem, "System", rWininit},
	rSvcDcom:     {exeSvchost, `C:\Windows\system32\svchost.exe -k DcomLaunch -p`, uSystem, "System", rServices},
	rSvcSchedule: {exeSvchost, `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`, uSystem, "System", rServices},
	rSvcNetwork:  {exeSvchost, `C:\Windows\system32\svchost.exe -k NetworkService -p -s Dnscache`, uNetworkService, "System", rServices},
	rSvcLocal:    {exeSvchost, `C:\Windows\system32\svchost.exe -k LocalServiceNetworkRestricted -p`, uLocalService, "System", rServices},
	rSvcWU:       {exeSvchost, `C:\Windows\system32\svchost.exe -k netsvcs -p -s wuauserv`, uSystem, "System", rServices},
	rWinlogon:    {exeWinlogon, "winlogon.exe", uSystem, "System", -1},
	rCsrss:       {exeCsrss, `%SystemRoot%\system32\csrss.exe ObjectDirectory=\Windows SharedSection=1024,20480,768 Windows=On SubSystemType=Windows ServerDll=basesrv,1 ServerDll=winsrv:UserServerDllInitialization,3 ServerDll=sxssrv,4 ProfileControl=Off MaxRequestThreads=16`, uSystem, "System", -1},
	rSpoolsv:     {exeSpoolsv, `C:\Windows\System32\spoolsv.exe`, uSystem, "System", rServices},
	rMsMpEng:     {exeMsMpEng, `"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe"`, uSystem, "System", rServices},
	rSysmon:      {exeSysmon, `C:\Windows\Sysmon64.exe`, uSystem, "System", rServices},
	rWmiPrvSE:    {exeWmiPrvSE, `C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding`, uNetworkService, "System", rSvcDcom},
	rVMTools:     {exeVMTools, `"C:\Program Files\VMware\VMware Tools\vmtoolsd.exe"`, uSystem, "System", rServices},
	rSearchIdx:   {exeSearchIdx, `C:\Windows\system32\SearchIndexer.exe /Embedding`, uSystem, "System", rServices},
	rExplorer:    {exeExplorer, `C:\Windows\Explorer.EXE`, uUser, "Medium", -1},
	rChrome:      {exeChrome, `"C:\Program Files\Google\Chrome\Application\chrome.exe" `, uUser, "Medium", rExplorer},
	rEdge:        {exeEdge, `"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --profile-directory=Default`, uUser, "Medium", rExplorer},
	rOneDrive:    {exeOneDrive, `"C:\Program Files\Microsoft OneDrive\OneDrive.exe" /background`, uUser, "Medium", rExplorer},
	rTeams:       {exeTeams, `"C:\Program Files\WindowsApps\MSTeams_24295.606.3238.6194_x64__8wekyb3d8bbwe\ms-teams.exe" msteams:system-initiated`, uUser, "Medium", rExplorer},
	rOutlook:     {exeOutlook, `"C:\Program Files\Microsoft Office\Root\Office16\OUTLOOK.EXE" `, uUser, "Medium", rExplorer},
	rRuntimeBr:   {exeRuntimeBr, `C:\Windows\System32\RuntimeBroker.exe -Embedding`, uUser, "Medium", rSvcDcom},
	rSihost:      {exeSihost, "sihost.exe", uUser, "Medium", rSvcLocal},
	rCtfmon:      {exeCtfmon, `"ctfmon.exe"`, uUser, "Medium", rSvcLocal},
	rTaskhostw:   {exeTaskhostw, "taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}", uUser, "Medium", rSvcSchedule},
}

// spawn is a template of an ordinary process creation (Sysmon event 1).
// The parent is a resident, or, when parentExe is set, a short-lived
// process (cmd.exe under explorer...) made up for the occasion.
type spawn struct {
	weight    int
	parent    int  // resident index; ignored when parentExe is set
	parentExe *exe // a transient parent
	parentCmd string
	parentOf  int // resident that started the transient parent (for its user)
	child     *exe
	cmd       string
	cwd       string
	user      userKind
	integrity string
}

// noiseSpawns are the ordinary process creations. None mentions msiexec.
// Several have parents the rule looks for (cmd.exe, powershell.exe,
// svchost.exe): they must be told apart by the msiexec term alone.
var noiseSpawns = []spawn{
	{weight: 10, parent: rServices, child: exeSvchost, cmd: `C:\Windows\system32\svchost.exe -k netsvcs -p -s BITS`, cwd: `C:\Windows\system32\`, user: uSystem, integrity: "System"},
	{weight: 6, parent: rServices, child: exeSvchost, cmd: `C:\Windows\System32\svchost.exe -k smphost`, cwd: `C:\Windows\system32\`, user: uNetworkService, integrity: "System"},
	{weight: 4, parent: rServices, child: exeSvchost, cmd: `C:\Windows\system32\svchost.exe -k LocalService -p -s BthAvctpSvc`, cwd: `C:\Windows\system32\`, user: uLocalService, integrity: "System"},
	{weight: 6, parent: rSvcDcom, child: exeWmiPrvSE, cmd: `C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding`, cwd: `C:\Windows\system32\`, user: uNetworkService, integrity: "System"},
	{weight: 4, parent: rSvcSchedule, child: exeTaskhostw, cmd: `taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly`, cwd: `C:\Windows\system32\`, user: uUser, integrity: "Medium"},
	{weight: 3, parent: rSvcSchedule, child: exeCompatTel, cmd: `C:\Windows\system32\compattelrunner.exe -m:appraiser.dll -f:DoScheduledTelemetryRun -cv:{X}.1`, cwd: `C:\Windows\system32\`, user: uSystem, integrity: "System"},
	{weight: 2, parent: rSvcSchedule, child: exeDxgiCache, cmd: `C:\windows\system32\dxgiadaptercache.exe`, cwd: `C:\windows\system32\`, user: uSystem, integrity: "System"},
	{weight: 1, parent: rSvcSchedule, child: exeDsregcmd, cmd: `C:\Windows\system32\dsregcmd.exe /checkrecovery`, cwd: `C:\Windows\system32\`, user: uSystem, integrity: "System"},
	{weight: 2, parent: rSvcSchedule, child: exeGpupdate, cmd: `gpupdate.exe /target:computer /force`, cwd: `C:\Windows\system32\`, user: uSystem, integrity: "System"},
	{weight: 4, parent: rSvcDcom, child: exeRuntimeBr, cmd: `C:\Windows\System32\RuntimeBroker.exe -Embedding`, cwd: `C:\Windows\system32\`, user: uUser, integrity: "Medium"},
	{weight: 3, parent: rSvcDcom, child: exeBgTaskHost, cmd: `"C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountBackgroundTask`, cwd: `C:\Windows\system32\`, user: uUser, integrity: "Low"},
	{weight: 2, parent: rSvcDcom, child: exeDllhost, cmd: `C:\Windows\system32\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}`, cwd: `C:\Windows\system32\`, user: uUser, integrity: "Medium"},
	{weight: 1, parent: rSvcDcom, child: exeTiWorker, cmd: `C:\Windows\winsxs\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.4355_none_7e2e5b0f7c6d2b51\TiWorker.exe -Embedding`, cwd: `C:\Windows\system32\`, user: uSystem, integrity: "System"},
	{weight: 1, parent: rServices, child: exeTrustedIn, cmd: `C:\Windows\servicing\TrustedInstaller.exe`, cwd: `C:\Windows\system32\`, user: uSystem, integrity: "System"},
	{weight: 1, parent: rServices, child: exeSppsvc, cmd: `C:\Windows\system32\sppsvc.exe`, cwd: `C:\Windows\system32\`, user: uNetworkService, integrity: "System"},
	{weight: 2, parent: rSearchIdx, child: exeSearchProt, cmd: `"C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe{n}_ Global\UsGthrCtrlFltPipeMssGthrPipe{n} 1 -2147483646 "Software\Microsoft\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\ProgramData\Microsoft\Search\Data\Temp\usgthrsvc" "DownLevelDaemon" `, cwd: `C:\Windows\system32\`, user: uSystem, integrity: "System"},
	{weight: 1, parent: rMsMpEng, child: exeMpCmdRun, cmd: `"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe" SignatureUpdate -ScheduleJob -RestrictPrivileges -Reinvoke`, cwd: `C:\Windows\system32\`, user: uNetworkService, integrity: "System"},
	{weight: 1, parent: rWinlogon, child: exeLogonUI, cmd: `"LogonUI.exe" /flags:0x2 /state0:0xa3b4{X} /state1:0x41c64e6d`, cwd: `C:\Windows\system32\`, user: uSystem, integrity: "System"},
	{weight: 12, parent: rChrome, child: exeChrome, cmd: `"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --string-annotations --video-capture-use-gpu-memory-buffer --lang=en-US --device-scale-factor=1 --num-raster-threads=2 --enable-main-frame-before-activation --renderer-client-id={n} --time-ticks-at-unix-epoch=-1732{x} --launch-time-ticks={n}{n} --field-trial-handle=1908,i,{x},{x},262144 --variations-seed-version=20241120-180046.535000 --mojo-platform-channel-handle={n} /prefetch:1`, cwd: `C:\Program Files\Google\Chrome\Application\131.0.6778.86\`, user: uUser, integrity: "Low"},
	{weight: 4, parent: rChrome, child: exeChrome, cmd: `"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none --string-annotations --field-trial-handle=1908,i,{x},{x},262144 --variations-seed-version=20241120-180046.535000 --mojo-platform-channel-handle={n} /prefetch:3`, cwd: `C:\Program Files\Google\Chrome\Application\131.0.6778.86\`, user: uUser, integrity: "Medium"},
	{weight: 5, parent: rEdge, child: exeEdge, cmd: `"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --type=renderer --instant-process --lang=en-US --js-flags=--ms-user-locale= --device-scale-factor=1 --num-raster-threads=2 --enable-main-frame-before-activation --renderer-client-id={n} --mojo-platform-channel-handle={n} --field-trial-handle=1956,i,{x},{x},262144 /prefetch:1`, cwd: `C:\Program Files (x86)\Microsoft\Edge\Application\131.0.2903.70\`, user: uUser, integrity: "Low"},
	{weight: 3, parent: rExplorer, child: exeChrome, cmd: `"C:\Program Files\Google\Chrome\Application\chrome.exe" `, cwd: `C:\Program Files\Google\Chrome\Application\`, user: uUser, integrity: "Medium"},
	{weight: 2, parent: rExplorer, child: exeOutlook, cmd: `"C:\Program Files\Microsoft Office\Root\Office16\OUTLOOK.EXE" `, cwd: `C:\Users\{u}\`, user: uUser, integrity: "Medium"},
	{weight: 2, parent: rExplorer, child: exeNotepad, cmd: `"C:\Windows\system32\NOTEPAD.EXE" C:\Users\{u}\Documents\notes-{n}.txt`, cwd: `C:\Users\{u}\Documents\`, user: uUser, integrity: "Medium"},
	{weight: 1, parent: rExplorer, child: exeCode, cmd: `"C:\Users\{u}\AppData\Local\Programs\Microsoft VS Code\Code.exe" `, cwd: `C:\Users\{u}\AppData\Local\Programs\Microsoft VS Code\`, user: uUser, integrity: "Medium"},
	{weight: 3, parent: rExplorer, child: exeCmd, cmd: `"C:\Windows\system32\cmd.exe" `, cwd: `C:\Users\{u}\`, user: uUser, integrity: "Medium"},
	{weight: 1, parent: rExplorer, child: exePowerShell, cmd: `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" `, cwd: `C:\Users\{u}\`, user: uUser, integrity: "Medium"},
	// cmd.exe and powershell.exe children: suspicious parents, no msiexec.
	{weight: 6, parentExe: exeCmd, parentCmd: `"C:\Windows\system32\cmd.exe" `, parentOf: rExplorer, child: exeConhost, cmd: `\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`, cwd: `C:\Windows`, user: uUser, integrity: "Medium"},
	{weight: 2, parentExe: exeCmd, parentCmd: `"C:\Windows\system32\cmd.exe" `, parentOf: rExplorer, child: exeIpconfig, cmd: `ipconfig  /all`, cwd: `C:\Users\{u}\`, user: uUser, integrity: "Medium"},
	{weight: 1, parentExe: exeCmd, parentCmd: `"C:\Windows\system32\cmd.exe" `, parentOf: rExplorer, child: exeWhoami, cmd: `whoami  /groups`, cwd: `C:\Users\{u}\`, user: uUser, integrity: "Medium"},
	{weight: 1, parentExe: exeCmd, parentCmd: `"C:\Windows\system32\cmd.exe" `, parentOf: rExplorer, child: exeNet, cmd: `net  use`, cwd: `C:\Users\{u}\`, user: uUser, integrity: "Medium"},
	{weight: 1, parentExe: exeCmd, parentCmd: `"C:\Windows\system32\cmd.exe" `, parentOf: rExplorer, child: exePing, cmd: `ping  -n 4 {h}.{dns}`, cwd: `C:\Users\{u}\`, user: uUser, integrity: "Medium"},
	{weight: 1, parentExe: exeCmd, parentCmd: `C:\Windows\system32\cmd.exe /c "C:\ProgramData\Contoso\inventory.cmd"`, parentOf: rSvcSchedule, child: exeReg, cmd: `reg  query "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall" /s`, cwd: `C:\Windows\system32\`, user: uSystem, integrity: "System"},
	{weight: 1, parentExe: exeCmd, parentCmd: `C:\Windows\system32\cmd.exe /c "C:\ProgramData\Contoso\inventory.cmd"`, parentOf: rSvcSchedule, child: exeTasklist, cmd: `tasklist  /v /fo csv`, cwd: `C:\Windows\system32\`, user: uSystem, integrity: "System"},
	{weight: 2, parentExe: exePowerShell, parentCmd: `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -ExecutionPolicy Bypass -File "C:\ProgramData\Contoso\health.ps1"`, parentOf: rSvcSchedule, child: exeConhost, cmd: `\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`, cwd: `C:\Windows`, user: uSystem, integrity: "System"},
	{weight: 1, parentExe: exePowerShell, parentCmd: `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" `, parentOf: rExplorer, child: exeWhoami, cmd: `"C:\Windows\system32\whoami.exe" /all`, cwd: `C:\Users\{u}\`, user: uUser, integrity: "Medium"},
}

// dest is a network peer (Sysmon events 3 and 22).
type dest struct {
	ip, host, port, portName, proto string
	query, results                  string // DNS
}

var dests = []dest{
	{"142.250.185.78", "fra16s52-in-f14.1e100.net", "443", "https", "tcp", "www.google.com", "type:  5 www3.l.google.com;::ffff:142.250.185.78;"},
	{"13.107.42.16", "-", "443", "https", "tcp", "config.edge.skype.com", "type:  5 config.edge.skype.com.trafficmanager.net;type:  5 l-0007.config.skype.com;::ffff:13.107.42.16;"},
	{"20.190.159.2", "-", "443", "https", "tcp", "login.microsoftonline.com", "type:  5 login.mso.msidentity.com;type:  5 ak.privatelink.msidentity.com;::ffff:20.190.159.2;"},
	{"52.113.194.132", "-", "443", "https", "tcp", "teams.microsoft.com", "type:  5 teams.office.com;::ffff:52.113.194.132;"},
	{"40.99.150.2", "-", "443", "https", "tcp", "outlook.office365.com", "type:  5 outlook.ha.office365.com;::ffff:40.99.150.2;"},
	{"23.50.131.205", "a23-50-131-205.deploy.static.akamaitechnologies.com", "80", "http", "tcp", "ctldl.windowsupdate.com", "type:  5 wu-bg-shim.trafficmanager.net;::ffff:23.50.131.205;"},
	{"20.42.65.92", "-", "443", "https", "tcp", "v10.events.data.microsoft.com", "type:  5 global.asimov.events.data.trafficmanager.net;::ffff:20.42.65.92;"},
	{"10.0.0.10", "DC01.{dns}", "389", "ldap", "tcp", "DC01.{dns}", "::ffff:10.0.0.10;"},
	{"10.0.0.10", "DC01.{dns}", "53", "domain", "udp", "_ldap._tcp.dc._msdcs.{dns}", "type:  33 DC01.{dns};::ffff:10.0.0.10;"},
	{"10.0.0.10", "DC01.{dns}", "88", "kerberos", "tcp", "DC01.{dns}", "::ffff:10.0.0.10;"},
	{"10.0.0.21", "FS01.{dns}", "445", "microsoft-ds", "tcp", "FS01.{dns}", "::ffff:10.0.0.21;"},
}

// netImages are the residents that open connections, with weights.
type netImage struct{ r, weight int }

var netImages = []netImage{
	{rChrome, 8}, {rEdge, 3}, {rSvcNetwork, 6}, {rOneDrive, 3}, {rTeams, 4}, {rMsMpEng, 2}, {rOutlook, 3}, {rLsass, 1},
}

// regKey is a template of a registry event (Sysmon events 12 and 13).
type regKey struct {
	r       int // resident writing it
	image   *exe
	target  string
	details string // event 13 only
	weight  int
}

var regCreates = []regKey{
	{r: -1, image: exeCompatTel, target: `\REGISTRY\A\{637b53f9-4d89-6fa1-6c98-3a1f52acff48}\Root\InventoryApplicationFile\{x}`, weight: 8},
	{r: -1, image: exeCompatTel, target: `\REGISTRY\A\{637b53f9-4d89-6fa1-6c98-3a1f52acff48}\Root\InventoryDriverBinary\c:/windows/system32/drivers/{X}.sys`, weight: 3},
	{r: rSvcLocal, target: `HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\{s}`, weight: 3},
	{r: rSvcDcom, target: `HKCR`, weight: 2},
	{r: rExplorer, target: `HKU\{s}\SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\ComDlg32\OpenSavePidlMRU\*`, weight: 2},
	{r: rExplorer, target: `HKU\{s}_Classes\Local Settings\Software\Microsoft\Windows\Shell\BagMRU\{n}`, weight: 2},
	{r: rSvcSchedule, target: `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tasks\{g}`, weight: 1},
	{r: rWmiPrvSE, target: `HKLM\SOFTWARE\Microsoft\Wbem\CIMOM`, weight: 1},
	{r: rMsMpEng, target: `HKLM\SOFTWARE\Microsoft\Windows Defender\Diagnostics`, weight: 1},
}

var regSets = []regKey{
	{r: rSvcLocal, target: `HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\{s}\\Device\HarddiskVolume3\Windows\System32\{X}.exe`, details: "Binary Data", weight: 5},
	{r: rServices, target: `HKU\.DEFAULT\Software\Classes\Local Settings\MuiCache\3\52C64B7E\@%SystemRoot%\system32\drivers\dam.sys,-100`, details: "Desktop Activity Moderator Driver", weight: 2},
	{r: rSvcNetwork, target: `HKLM\System\CurrentControlSet\Services\Tcpip\Parameters\Interfaces\{g}\DhcpIPAddress`, details: "{ip}", weight: 2},
	{r: rExplorer, target: `HKU\{s}\SOFTWARE\Microsoft\Windows\CurrentVersion\Explorer\UserAssist\{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\Count\HRZR_PGYFRFFVBA`, details: "Binary Data", weight: 4},
	{r: rMsMpEng, target: `HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\SignaturesLastUpdated`, details: "QWORD (0x01db3f{X}-0x{X})", weight: 2},
	{r: rSvcDcom, target: `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WINEVT\Publishers\{g}\Enabled`, details: "DWORD (0x00000001)", weight: 1},
	{r: rOutlook, target: `HKU\{s}\SOFTWARE\Microsoft\Office\16.0\Outlook\Profiles\Outlook\0a0d020000000000c000000000000046\{X}`, details: "Binary Data", weight: 3},
	{r: rSvcSchedule, target: `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tree\Microsoft\Windows\UpdateOrchestrator\Schedule Scan\Index`, details: "DWORD (0x00000003)", weight: 1},
	{r: -1, image: exeCompatTel, target: `\REGISTRY\A\{637b53f9-4d89-6fa1-6c98-3a1f52acff48}\Root\InventoryApplicationFile\{x}\LowerCaseLongPath`, details: `c:\program files\contoso\agent\{X}.exe`, weight: 4},
	{r: rChrome, target: `HKU\{s}\SOFTWARE\Google\Chrome\BLBeacon\state`, details: "DWORD (0x00000001)", weight: 2},
}

// fileTarget is a template of a file event (Sysmon events 11 and 23).
type fileTarget struct {
	r      int
	target string
	weight int
	hashes string // event 23: set by init
}

var fileCreates = []fileTarget{
	{rChrome, `C:\Users\{u}\AppData\Local\Google\Chrome\User Data\Default\Cache\Cache_Data\f_{X}`, 6, ""},
	{rEdge, `C:\Users\{u}\AppData\Local\Microsoft\Edge\User Data\Default\Code Cache\js\{x}_0`, 3, ""},
	{rSvcSchedule, `C:\Windows\Prefetch\{X}.EXE-{X}.pf`, 3, ""},
	{rMsMpEng, `C:\ProgramData\Microsoft\Windows Defender\Scans\History\CacheManager\{X}-0.bin`, 1, ""},
	{rExplorer, `C:\Users\{u}\AppData\Roaming\Microsoft\Windows\Recent\notes-{n}.lnk`, 2, ""},
	{rOutlook, `C:\Users\{u}\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\{X}\image00{n}.png`, 2, ""},
	{rOneDrive, `C:\Users\{u}\AppData\Local\Microsoft\OneDrive\logs\Personal\SyncDiagnostics.log`, 1, ""},
	{rSvcWU, `C:\Windows\SoftwareDistribution\Download\{x}{x}\{x}.cab`, 1, ""},
}

var fileDeletes = func() []fileTarget {
	fs := []fileTarget{
		{rChrome, `C:\Users\{u}\AppData\Local\Temp\scoped_dir{p}_{n}\{x}.tmp`, 3, ""},
		{rSvcWU, `C:\Windows\SoftwareDistribution\Download\{x}{x}\{x}.cab`, 1, ""},
		{rExplorer, `C:\Users\{u}\AppData\Local\Temp\{g}.tmp`, 1, ""},
	}
	for i := range fs {
		fs[i].hashes = fakeHashes(fs[i].target)
	}
	return fs
}()

// pipes are named pipes (Sysmon event 18), with the resident connecting.
var pipes = []struct {
	r    int
	name string
}{
	{rChrome, `\mojo.{p}.{n}.{x}`},
	{rChrome, `\LOCAL\crashpad_{p}_{X}{X}`},
	{rSvcSchedule, `\srvsvc`},
	{rSvcSchedule, `\wkssvc`},
	{rLsass, `\lsass`},
	{rSpoolsv, `\spoolss`},
	{rTeams, `\LOCAL\mojo.{p}.{n}.{x}`},
	{rWmiPrvSE, `\ntsvcs`},
}

// accessPairs are (source, target) residents of Sysmon event 10, with the
// access masks and weights seen in real data.
type accessPair struct{ src, dst, weight int }

var accessPairs = []accessPair{
	{rVMTools, rSvcDcom, 10}, {rVMTools, rSvcSchedule, 6}, {rVMTools, rRuntimeBr, 3}, {rVMTools, rWmiPrvSE, 2},
	{rSvcSchedule, rSvcNetwork, 3}, {rSvcDcom, rSvcLocal, 3}, {rMsMpEng, rChrome, 2}, {rMsMpEng, rExplorer, 2},
	{rCsrss, rChrome, 2}, {rCsrss, rExplorer, 1}, {rLsass, rSvcDcom, 1}, {rWmiPrvSE, rLsass, 1},
	{rSysmon, rLsass, 1}, {rMsMpEng, rLsass, 1}, {rSearchIdx, rSvcLocal, 1}, {rExplorer, rOneDrive, 1},
}

type accessMask struct {
	mask   string
	weight int
}

var grantedAccess = []accessMask{
	{"0x1400", 60}, {"0x1000", 15}, {"0x3000", 4}, {"0x1fffff", 4}, {"0x1410", 4}, {"0x2000", 3}, {"0x1478", 3}, {"0x40", 2}, {"0x100000", 1}, {"0x1040", 1},
}

// Host naming.
var (
	departments = []string{"FIN", "HR", "ENG", "OPS", "MKT", "IT", "SALES", "LEGAL"}
	serverRoles = []string{"APP", "SQL", "FILE", "WEB", "PRINT", "RDS"}
	firstNames  = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "nina", "oscar", "peggy", "rupert", "sybil", "trent", "ursula", "victor", "wendy"}
	lastNames   = []string{"martin", "nguyen", "garcia", "smith", "kowalski", "okafor", "tanaka", "silva", "müller", "dubois", "rossi", "jensen", "o'brien", "patel", "cohen"}
	collectors  = []string{"wec01", "wec02", "WECServer"}
)
