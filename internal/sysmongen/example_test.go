package sysmongen_test

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/msiguard/msiguard/internal/sysmongen"
)

// Write ten minutes of event time at 100 events per second as JSON lines.
func Example() {
	g, err := sysmongen.New(sysmongen.Config{
		Seed:            1,
		Hosts:           20,
		AttackRate:      0.005,
		Start:           time.Date(2025, 3, 6, 10, 0, 0, 0, time.UTC),
		EventsPerSecond: 100,
	})
	if err != nil {
		panic(err)
	}
	w := bufio.NewWriter(io.Discard)
	var buf []byte
	for range 60_000 {
		buf = g.Next(buf[:0])
		buf = append(buf, '\n')
		w.Write(buf)
	}
	w.Flush()
	st := g.Stats()
	fmt.Println(st.Records, "records from", st.MinTime.Format(time.TimeOnly), "to", st.MaxTime.Format(time.TimeOnly))
	fmt.Println("attacks:", st.Attacks > 0, "alerts expected:", st.AttackBuckets > 0 && st.AttackBuckets <= st.Attacks)
	// Output:
	// 60000 records from 10:00:00 to 10:09:59
	// attacks: true alerts expected: true
}
