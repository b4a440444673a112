package stream

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/msiguard/msiguard/kafkaio"
	"github.com/msiguard/msiguard/window"
)

// TailConfig configures TailAlerts.
type TailConfig struct {
	// Cluster says how to reach the brokers. Required.
	Cluster kafkaio.Cluster
	// Topic is the alerts topic. Required.
	Topic string
	// FromStart reads every partition from its first offset; otherwise
	// from its end at the time of the call (only alerts published later).
	FromStart bool
	// MaxWait is how long the broker may hold a fetch for data to arrive.
	// Default 200ms.
	MaxWait time.Duration
	// Logger receives retries and skipped records. Default slog.Default().
	Logger *slog.Logger
}

// TailedAlert is one record of the alerts topic, decoded.
type TailedAlert struct {
	Alert     *window.Alert
	Partition int
	Offset    int64
}

// TailAlerts follows the alerts topic without joining a consumer group (it
// commits nothing) and calls fn for each alert, from one goroutine at a
// time, in offset order within a partition. Records that are not alerts
// are skipped with one warning. It returns nil when ctx is done, fn's
// error, or the error that made a partition's reader give up (a
// *kafkaio.FatalError, or the metadata request failing). It is for showing
// alerts as they are published (msiguard demo) and for tools; the pipeline
// reads the topic back with its own code (restore).
func TailAlerts(ctx context.Context, cfg TailConfig, fn func(TailedAlert) error) error {
	if cfg.Topic == "" {
		return fmt.Errorf("%w: no alerts topic to tail", kafkaio.ErrConfig)
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dialer, tr, err := cfg.Cluster.Clients()
	if err != nil {
		return err
	}
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: cfg.Cluster.Addr(), Transport: tr, Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{cfg.Topic}})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return kafkaio.Classify(fmt.Errorf("reading metadata of topic %s: %w", cfg.Topic, err))
	}
	var parts []int
	for _, t := range md.Topics {
		if t.Name != cfg.Topic {
			continue
		}
		if t.Error != nil {
			return kafkaio.Classify(fmt.Errorf("topic %s: %w", cfg.Topic, t.Error))
		}
		for _, p := range t.Partitions {
			parts = append(parts, p.ID)
		}
	}
	if len(parts) == 0 {
		return fmt.Errorf("topic %s has no partitions (does it exist?)", cfg.Topic)
	}
	slices.Sort(parts)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	start := kafka.LastOffset
	if cfg.FromStart {
		start = kafka.FirstOffset
	}
	var (
		mu       sync.Mutex // serializes fn and guards badShown
		badShown bool
		wg       sync.WaitGroup
	)
	for _, part := range parts {
		f := kafkaio.NewFetcher(kafkaio.FetcherConfig{Dialer: dialer, Brokers: cfg.Cluster.Brokers, Topic: cfg.Topic, Partition: part, Offset: start, MaxWait: cfg.MaxWait, Logger: cfg.Logger})
		wg.Go(func() {
			defer f.Close()
			for ctx.Err() == nil {
				err := f.Fetch(ctx, values(func(offset int64, value []byte) error {
					a := new(window.Alert)
					if err := a.UnmarshalJSON(value); err != nil {
						mu.Lock()
						if !badShown {
							badShown = true
							cfg.Logger.Warn("skipping records of the alerts topic that are not alerts",
								"topic", cfg.Topic, "partition", part, "offset", offset, "err", err)
						}
						mu.Unlock()
						return nil
					}
					mu.Lock()
					defer mu.Unlock()
					if ctx.Err() != nil {
						return ctx.Err()
					}
					return fn(TailedAlert{Alert: a, Partition: part, Offset: offset})
				}))
				if err != nil && ctx.Err() == nil {
					cancel(err)
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && ctx.Err() != err {
		return err
	}
	return nil
}
