package detector

import (
	"fmt"
	"strings"
)

// Shape is one of the ways Sysmon events are laid out on Kafka
// (shared/reference/sysmon-formats.md).
type Shape uint8

const (
	// ShapeAuto detects the shape of each record (the default).
	ShapeAuto Shape = iota
	// ShapeWinlogbeat is Winlogbeat 7/8 without the sysmon module:
	// winlog.event_id, winlog.computer_name, winlog.channel,
	// winlog.provider_name, winlog.event_data.<Name>.
	ShapeWinlogbeat
	// ShapeWinlogbeatECS is Winlogbeat or Elastic Agent with the sysmon module:
	// ECS process.* and user.* fields, the rest in winlog.event_data.
	ShapeWinlogbeatECS
	// ShapeWinlogbeat6 is Winlogbeat 6.x: event_id, computer_name, log_name,
	// source_name, event_data.<Name>.
	ShapeWinlogbeat6
	// ShapeFlat is NXLog, OTRF/Mordor and SIEM exports: EventID, Computer or
	// Hostname, Channel, SourceName or Provider, and top-level <Name> fields.
	ShapeFlat
	// ShapeEVTXList is EVTX converted to JSON with EventData.Data as a list of
	// {"@Name": ..., "#text": ...} (EvtxECmd and similar).
	ShapeEVTXList
	// ShapeEVTXMap is EVTX converted to JSON with EventData as a map (evtx_dump).
	ShapeEVTXMap
	// ShapeXML is the rendered event XML (XmlWinEventLog).
	ShapeXML
	numShapes
)

var shapeNames = [numShapes]string{
	ShapeAuto:          "auto",
	ShapeWinlogbeat:    "winlogbeat",
	ShapeWinlogbeatECS: "winlogbeat-ecs",
	ShapeWinlogbeat6:   "winlogbeat6",
	ShapeFlat:          "flat",
	ShapeEVTXList:      "evtx-list",
	ShapeEVTXMap:       "evtx-map",
	ShapeXML:           "xml",
}

// String returns the shape's name as accepted by [ParseShape].
func (s Shape) String() string {
	if s < numShapes {
		return shapeNames[s]
	}
	return fmt.Sprintf("shape(%d)", uint8(s))
}

// Shapes returns every concrete shape (not ShapeAuto), in a stable order.
func Shapes() []Shape {
	out := make([]Shape, 0, numShapes-1)
	for s := ShapeAuto + 1; s < numShapes; s++ {
		out = append(out, s)
	}
	return out
}

// ParseShape turns a shape name ("auto", "winlogbeat", "winlogbeat-ecs",
// "winlogbeat6", "flat", "evtx-list", "evtx-map", "xml") into a Shape.
func ParseShape(name string) (Shape, error) {
	for s, n := range shapeNames {
		if strings.EqualFold(name, n) {
			return Shape(s), nil
		}
	}
	return 0, fmt.Errorf("unknown shape %q: use one of %s", name, strings.Join(shapeNames[:], ", "))
}
