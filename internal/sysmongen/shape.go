package sysmongen

import (
	"fmt"
	"strings"
)

// Shape is one of the seven ways Sysmon events are laid out on a topic
// (shared/reference/sysmon-formats.md). Names and numbers are the
// detector's (detector.Shape; TestShapesAreTheDetectors holds them
// equal), but this package does not import the detector: the detector's
// own tests render their records here.
type Shape uint8

const (
	ShapeWinlogbeat    Shape = iota + 1 // Winlogbeat 7/8 without the sysmon module
	ShapeWinlogbeatECS                  // Winlogbeat 8 or Elastic Agent with the sysmon module (ECS)
	ShapeWinlogbeat6                    // Winlogbeat 6.x
	ShapeFlat                           // OTRF export, NXLog through Logstash, Sentinel export
	ShapeEVTXList                       // EVTX as JSON, EventData.Data a list (EvtxECmd)
	ShapeEVTXMap                        // EVTX as JSON, EventData a map (evtx_dump)
	ShapeXML                            // rendered event XML (XmlWinEventLog)
	numShapes
)

var shapeNames = [numShapes]string{
	ShapeWinlogbeat:    "winlogbeat",
	ShapeWinlogbeatECS: "winlogbeat-ecs",
	ShapeWinlogbeat6:   "winlogbeat6",
	ShapeFlat:          "flat",
	ShapeEVTXList:      "evtx-list",
	ShapeEVTXMap:       "evtx-map",
	ShapeXML:           "xml",
}

// String returns the shape's name, as ParseShape and the detector take it.
func (s Shape) String() string {
	if s > 0 && s < numShapes {
		return shapeNames[s]
	}
	return fmt.Sprintf("shape(%d)", uint8(s))
}

// Shapes returns the seven shapes, in a stable order.
func Shapes() []Shape {
	out := make([]Shape, 0, numShapes-1)
	for s := ShapeWinlogbeat; s < numShapes; s++ {
		out = append(out, s)
	}
	return out
}

// ParseShape returns the shape named name, in any case.
func ParseShape(name string) (Shape, error) {
	for _, s := range Shapes() {
		if strings.EqualFold(name, shapeNames[s]) {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown shape %q: use one of %s", name, strings.Join(shapeNames[1:], ", "))
}
