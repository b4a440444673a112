package cim

// events is the table, one entry per mapped Sysmon event id, each entry's
// fields sorted by name. FIELDS.md is the same table with its citations;
// TestFieldsDoc keeps the two equal.
var events = []Event{
	{ID: 1, Name: "Process creation", Dataset: "Endpoint.Processes", Fields: sorted(
		// Exactly detector/rule.go's cimFields (rule-semantics.md): the
		// add-on's FIELDALIAS-user, -process, -process_current_directory,
		// -process_hash, -process_guid, -process_id,
		// -process_integrity_level, -process_path, -parent_process,
		// -parent_process_id, -parent_process_guid, -parent_process_path and
		// EVAL-process_exec, -process_name, -parent_process_exec,
		// -parent_process_name (basename).
		copyOf("user", User),
		copyOf("process", CommandLine),
		copyOf("process_current_directory", CurrentDirectory),
		base("process_exec", Image),
		copyOf("process_guid", ProcessGuid),
		copyOf("process_hash", Hashes),
		copyOf("process_id", ProcessId),
		copyOf("process_integrity_level", IntegrityLevel),
		base("process_name", Image),
		copyOf("process_path", Image),
		copyOf("parent_process", ParentCommandLine),
		base("parent_process_exec", ParentImage),
		copyOf("parent_process_guid", ParentProcessGuid),
		copyOf("parent_process_id", ParentProcessId),
		base("parent_process_name", ParentImage),
		copyOf("parent_process_path", ParentImage),
	)},
	{ID: 3, Name: "Network connection", Dataset: "Network_Traffic", Fields: sorted(
		copyOf("app", Image),
		Mapping{"dest", []Source{DestinationHostname, DestinationIp}, Coalesce},
		copyOf("dest_host", DestinationHostname),
		copyOf("dest_ip", DestinationIp),
		copyOf("dest_port", DestinationPort),
		Mapping{"direction", []Source{Initiated}, Direction},
		base("process_exec", Image),
		copyOf("process_guid", ProcessGuid),
		copyOf("process_id", ProcessId),
		base("process_name", Image),
		copyOf("process_path", Image),
		Mapping{"src", []Source{SourceHostname, SourceIp}, Coalesce},
		copyOf("src_host", SourceHostname),
		copyOf("src_ip", SourceIp),
		copyOf("src_port", SourcePort),
		copyOf("transport", Protocol),
		copyOf("user", User),
	)},
	{ID: 7, Name: "Image loaded", Dataset: "Endpoint.Processes (the loading process)", Fields: sorted(
		// process_hash is Sysmon's Hashes, which in event 7 hashes the
		// loaded image, not the process (the add-on aliases it anyway).
		base("process_exec", Image),
		copyOf("process_guid", ProcessGuid),
		copyOf("process_hash", Hashes),
		copyOf("process_id", ProcessId),
		base("process_name", Image),
		copyOf("process_path", Image),
		copyOf("user", User),
	)},
	{ID: 11, Name: "File created", Dataset: "Endpoint.Filesystem", Fields: sorted(
		copyOf("file_create_time", CreationUtcTime),
		Mapping{"file_name", []Source{TargetFilename}, LastSegment},
		copyOf("file_path", TargetFilename),
		base("process_exec", Image),
		copyOf("process_guid", ProcessGuid),
		copyOf("process_id", ProcessId),
		base("process_name", Image),
		copyOf("process_path", Image),
		copyOf("user", User),
	)},
	{ID: 13, Name: "Registry value set", Dataset: "Endpoint.Registry", Fields: sorted(
		copyOf("object_path", TargetObject),
		base("process_exec", Image),
		copyOf("process_guid", ProcessGuid),
		copyOf("process_id", ProcessId),
		base("process_name", Image),
		copyOf("process_path", Image),
		Mapping{"registry_key_name", []Source{TargetObject}, KeyName},
		copyOf("registry_path", TargetObject),
		copyOf("registry_value_data", Details),
		copyOf("user", User),
	)},
	{ID: 22, Name: "DNS query", Dataset: "Network_Resolution", Fields: sorted(
		copyOf("answer", QueryResults),
		base("process_exec", Image),
		copyOf("process_guid", ProcessGuid),
		copyOf("process_id", ProcessId),
		base("process_name", Image),
		copyOf("process_path", Image),
		copyOf("query", QueryName),
		copyOf("user", User),
	)},
}

func copyOf(field string, src Source) Mapping { return Mapping{field, []Source{src}, Copy} }
func base(field string, src Source) Mapping   { return Mapping{field, []Source{src}, BaseName} }

func sorted(ms ...Mapping) []Mapping {
	out := append([]Mapping(nil), ms...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Field < out[j-1].Field; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
