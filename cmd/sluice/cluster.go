package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/daemon"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/group"
	"github.com/sluice-cdc/sluice/daemon/runtime"
	"github.com/sluice-cdc/sluice/daemon/store"
)

// cluster is what cluster mode (group.id) adds to the daemon: the storage
// topics and, once the supervisor has started, the group membership.
type cluster struct {
	d      *config.Daemon
	log    *slog.Logger
	opts   []kgo.Opt
	store  *store.Kafka
	member *group.Member
}

// openStore opens where connectors live: the state directory in
// standalone mode; in cluster mode, the storage topics, into which the
// state directory's connectors are imported once. The cluster is nil in
// standalone mode.
func openStore(ctx context.Context, d *config.Daemon, log *slog.Logger) (store.Store, *cluster, error) {
	dir := filepath.Join(d.StateDir, "connectors")
	if d.GroupID == "" {
		st, err := store.Open(dir)
		return st, nil, err
	}
	if d.ConnectorsDir != "" {
		return nil, nil, fmt.Errorf("connectors.dir %s: connector files are for standalone mode; in cluster mode (group.id %s) create connectors through the REST API of any instance", d.ConnectorsDir, d.GroupID)
	}
	opts, err := runtime.KafkaOpts(d.Kafka)
	if err != nil {
		return nil, nil, err
	}
	k, err := store.OpenKafka(ctx, store.Topics{
		Config: d.ConfigStorageTopic, ConfigReplication: int16(d.ConfigStorageReplicationFactor),
		Offsets: d.OffsetStorageTopic, OffsetPartitions: int32(d.OffsetStoragePartitions), OffsetReplication: int16(d.OffsetStorageReplicationFactor),
		Status: d.StatusStorageTopic, StatusPartitions: int32(d.StatusStoragePartitions), StatusReplication: int16(d.StatusStorageReplicationFactor),
	}, log, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster mode (group.id %s): %w", d.GroupID, err)
	}
	if _, err := store.Import(ctx, dir, k, log); err != nil {
		k.Close()
		return nil, nil, err
	}
	return k, &cluster{d: d, log: log, opts: opts, store: k}, nil
}

// shared is the store the supervisor shares with the other instances; nil
// in standalone mode.
func (c *cluster) shared() daemon.Shared {
	if c == nil {
		return nil
	}
	return c.store
}

// join makes the instance a member of the group once sup has started: the
// group then decides which connectors it runs.
func (c *cluster) join(sup *daemon.Supervisor, worker string) error {
	if c == nil {
		return nil
	}
	m, err := group.Join(group.Options{
		GroupID: c.d.GroupID, Topic: c.d.ConfigStorageTopic, Worker: worker,
		SessionTimeout:    time.Duration(c.d.SessionTimeoutMS) * time.Millisecond,
		HeartbeatInterval: time.Duration(c.d.HeartbeatIntervalMS) * time.Millisecond,
		RebalanceTimeout:  time.Duration(c.d.RebalanceTimeoutMS) * time.Millisecond,
		Logger:            c.log,
	}, sup, c.store, c.opts...)
	if err != nil {
		return err
	}
	c.member = m
	c.store.Watch(func(name string) {
		sup.Changed(name)
		m.Changed(name)
	})
	c.log.Info("cluster: joined the group", "group", c.d.GroupID, "worker", worker)
	return nil
}

// release leaves the group, once the supervisor has stopped every
// connector, so that the other instances take them over at once, then
// closes the storage topics; then it calls next.
func (c *cluster) release(next func() error) func() error {
	if c == nil {
		return next
	}
	return func() error {
		if c.member != nil {
			c.member.Leave()
		}
		c.store.Close()
		return next()
	}
}
