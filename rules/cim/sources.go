package cim

// The Sysmon names below follow Sysmon's event schema (sysmon -s, schema
// 4.90); keep them sorted.

// Source is a raw field a [Record] supplies: an envelope field or a Sysmon
// EventData field. Its name (String) is the field's name in rules.
type Source uint8

const (
	// NoSource is the zero Source; no record has it.
	NoSource Source = iota
	// EventCode is the event id in decimal (the add-on's [sysmon-eventid]: <EventID> as EventCode).
	EventCode
	// Channel is the event log channel (<Channel>; Winlogbeat winlog.channel, ...).
	Channel
	// SourceName is the event's provider (<Provider Name=...>; classic WinEventLog SourceName).
	SourceName
	// Computer is the endpoint's computer name (<Computer>); also the rule's host.
	Computer

	// The Sysmon EventData fields of schema 4.90 (Sysmon 15), event ids 1-29 and 255.
	Archived
	CallTrace
	ClientInfo
	CommandLine
	Company
	Configuration
	ConfigurationFileHash
	Consumer
	Contents
	CreationUtcTime
	CurrentDirectory
	Description
	Destination
	DestinationHostname
	DestinationIp
	DestinationIsIpv6
	DestinationPort
	DestinationPortName
	Details
	Device
	EventNamespace
	EventType
	FileVersion
	Filter
	GrantedAccess
	Hash
	Hashes
	ID
	Image
	ImageLoaded
	Initiated
	IntegrityLevel
	IsExecutable
	LogonGuid
	LogonId
	Name
	NewName
	NewThreadId
	Operation
	OriginalFileName
	ParentCommandLine
	ParentImage
	ParentProcessGuid
	ParentProcessId
	ParentUser
	PipeName
	PreviousCreationUtcTime
	ProcessGuid
	ProcessId
	Product
	Protocol
	Query
	QueryName
	QueryResults
	QueryStatus
	RuleName
	SchemaVersion
	Session
	Signature
	SignatureStatus
	Signed
	SourceHostname
	SourceImage
	SourceIp
	SourceIsIpv6
	SourcePort
	SourcePortName
	SourceProcessGUID
	SourceProcessGuid
	SourceProcessId
	SourceThreadId
	SourceUser
	StartAddress
	StartFunction
	StartModule
	State
	TargetFilename
	TargetImage
	TargetObject
	TargetProcessGUID
	TargetProcessGuid
	TargetProcessId
	TargetUser
	TerminalSessionId
	Type
	User
	UtcTime
	Version

	numSources
)

var sourceNames = [numSources]string{
	NoSource:                "",
	EventCode:               "EventCode",
	Channel:                 "Channel",
	SourceName:              "SourceName",
	Computer:                "Computer",
	Archived:                "Archived",
	CallTrace:               "CallTrace",
	ClientInfo:              "ClientInfo",
	CommandLine:             "CommandLine",
	Company:                 "Company",
	Configuration:           "Configuration",
	ConfigurationFileHash:   "ConfigurationFileHash",
	Consumer:                "Consumer",
	Contents:                "Contents",
	CreationUtcTime:         "CreationUtcTime",
	CurrentDirectory:        "CurrentDirectory",
	Description:             "Description",
	Destination:             "Destination",
	DestinationHostname:     "DestinationHostname",
	DestinationIp:           "DestinationIp",
	DestinationIsIpv6:       "DestinationIsIpv6",
	DestinationPort:         "DestinationPort",
	DestinationPortName:     "DestinationPortName",
	Details:                 "Details",
	Device:                  "Device",
	EventNamespace:          "EventNamespace",
	EventType:               "EventType",
	FileVersion:             "FileVersion",
	Filter:                  "Filter",
	GrantedAccess:           "GrantedAccess",
	Hash:                    "Hash",
	Hashes:                  "Hashes",
	ID:                      "ID",
	Image:                   "Image",
	ImageLoaded:             "ImageLoaded",
	Initiated:               "Initiated",
	IntegrityLevel:          "IntegrityLevel",
	IsExecutable:            "IsExecutable",
	LogonGuid:               "LogonGuid",
	LogonId:                 "LogonId",
	Name:                    "Name",
	NewName:                 "NewName",
	NewThreadId:             "NewThreadId",
	Operation:               "Operation",
	OriginalFileName:        "OriginalFileName",
	ParentCommandLine:       "ParentCommandLine",
	ParentImage:             "ParentImage",
	ParentProcessGuid:       "ParentProcessGuid",
	ParentProcessId:         "ParentProcessId",
	ParentUser:              "ParentUser",
	PipeName:                "PipeName",
	PreviousCreationUtcTime: "PreviousCreationUtcTime",
	ProcessGuid:             "ProcessGuid",
	ProcessId:               "ProcessId",
	Product:                 "Product",
	Protocol:                "Protocol",
	Query:                   "Query",
	QueryName:               "QueryName",
	QueryResults:            "QueryResults",
	QueryStatus:             "QueryStatus",
	RuleName:                "RuleName",
	SchemaVersion:           "SchemaVersion",
	Session:                 "Session",
	Signature:               "Signature",
	SignatureStatus:         "SignatureStatus",
	Signed:                  "Signed",
	SourceHostname:          "SourceHostname",
	SourceImage:             "SourceImage",
	SourceIp:                "SourceIp",
	SourceIsIpv6:            "SourceIsIpv6",
	SourcePort:              "SourcePort",
	SourcePortName:          "SourcePortName",
	SourceProcessGUID:       "SourceProcessGUID",
	SourceProcessGuid:       "SourceProcessGuid",
	SourceProcessId:         "SourceProcessId",
	SourceThreadId:          "SourceThreadId",
	SourceUser:              "SourceUser",
	StartAddress:            "StartAddress",
	StartFunction:           "StartFunction",
	StartModule:             "StartModule",
	State:                   "State",
	TargetFilename:          "TargetFilename",
	TargetImage:             "TargetImage",
	TargetObject:            "TargetObject",
	TargetProcessGUID:       "TargetProcessGUID",
	TargetProcessGuid:       "TargetProcessGuid",
	TargetProcessId:         "TargetProcessId",
	TargetUser:              "TargetUser",
	TerminalSessionId:       "TerminalSessionId",
	Type:                    "Type",
	User:                    "User",
	UtcTime:                 "UtcTime",
	Version:                 "Version",
}

// String returns the source's field name.
func (s Source) String() string {
	if s < numSources {
		return sourceNames[s]
	}
	return "source(?)"
}

// IsEnvelope reports whether s is an envelope field rather than a Sysmon
// EventData field.
func (s Source) IsEnvelope() bool { return EventCode <= s && s <= Computer }

// NumSources is one more than the largest Source: a Record may index an
// array of this size by Source.
const NumSources = int(numSources)

// byName maps every source's name, and the other names rules may use for
// one, to the source: EventID (the add-on's FIELDALIAS-eventid = EventCode
// AS EventID), EventChannel (its [sysmon-channel] name for <Channel>) and
// host (msiguard's host is the endpoint's computer name, rule-semantics.md).
// One map lookup: the detector calls SourceByName for every member of every
// record that hits the prefilter.
var byName = func() map[string]Source {
	m := make(map[string]Source, numSources+2)
	for s := Source(1); s < numSources; s++ {
		m[sourceNames[s]] = s
	}
	m["EventID"], m["EventChannel"], m["host"] = EventCode, Channel, Computer
	return m
}()

// SourceByName returns the source a rule's field name refers to. Names are
// case-sensitive, as Splunk's field names are.
func SourceByName(name string) (Source, bool) {
	s, ok := byName[name]
	return s, ok
}
