package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/daemon"
)

// Groups reads and changes sink connectors' consumer group offsets with
// Kafka's admin API, for the offsets API (daemon.Options.Groups). Each call
// uses a client of its own, closed when it returns.
func (r *Runtime) Groups() daemon.GroupOffsets { return groupOffsets{r} }

type groupOffsets struct{ r *Runtime }

var _ daemon.GroupOffsets = groupOffsets{}

// admin runs fn with an admin client of the daemon's cluster.
func (g groupOffsets) admin(fn func(adm *kadm.Client) error) error {
	cl, err := kgo.NewClient(append(slices.Clone(g.r.kafkaOpts), kgo.SeedBrokers(g.r.brokers...))...)
	if err != nil {
		return fmt.Errorf("create Kafka admin client: %w", err)
	}
	defer cl.Close()
	return fn(kadm.NewClient(cl))
}

// Committed returns the group's committed offsets; none when the group
// does not exist.
func (g groupOffsets) Committed(ctx context.Context, group string) ([]daemon.GroupOffset, error) {
	var out []daemon.GroupOffset
	err := g.admin(func(adm *kadm.Client) error {
		resps, err := adm.FetchOffsets(ctx, group)
		if errors.Is(err, kerr.GroupIDNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := resps.Error(); err != nil {
			return err
		}
		resps.Each(func(o kadm.OffsetResponse) {
			if o.At >= 0 {
				out = append(out, daemon.GroupOffset{Topic: o.Topic, Partition: o.Partition, Offset: o.At})
			}
		})
		return nil
	})
	return out, err
}

// Alter commits set and deletes the committed offsets of unset. Kafka
// accepts either only while the group has no members: a member still
// there is ErrGroupActive.
func (g groupOffsets) Alter(ctx context.Context, group string, set, unset []daemon.GroupOffset) error {
	return g.admin(func(adm *kadm.Client) error {
		if len(set) > 0 {
			offs := kadm.Offsets{}
			for _, o := range set {
				offs.Add(kadm.Offset{Topic: o.Topic, Partition: o.Partition, At: o.Offset, LeaderEpoch: -1})
			}
			resps, err := adm.CommitOffsets(ctx, group, offs)
			if err != nil {
				return groupError(err)
			}
			var errs []error
			for _, o := range resps.Sorted() {
				if o.Err != nil {
					errs = append(errs, partitionError(o.Topic, o.Partition, o.Err))
				}
			}
			if err := errors.Join(errs...); err != nil {
				return err
			}
		}
		if len(unset) == 0 {
			return nil
		}
		parts := kadm.TopicsSet{}
		for _, o := range unset {
			parts.Add(o.Topic, o.Partition)
		}
		resps, err := adm.DeleteOffsets(ctx, group, parts)
		if errors.Is(err, kerr.GroupIDNotFound) {
			return nil // nothing committed, nothing to delete
		}
		if err != nil {
			return groupError(err)
		}
		var errs []error
		resps.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, kerr.UnknownTopicOrPartition) { // nothing committed there
				errs = append(errs, partitionError(t, p, err))
			}
		})
		return errors.Join(errs...)
	})
}

// Reset deletes the group; one that does not exist is no error.
func (g groupOffsets) Reset(ctx context.Context, group string) error {
	return g.admin(func(adm *kadm.Client) error {
		_, err := adm.DeleteGroup(ctx, group)
		if err == nil || errors.Is(err, kerr.GroupIDNotFound) {
			return nil
		}
		return groupError(err)
	})
}

// groupError marks the errors of a group that has members.
func groupError(err error) error {
	if errors.Is(err, kerr.NonEmptyGroup) || errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.IllegalGeneration) ||
		errors.Is(err, kerr.RebalanceInProgress) || errors.Is(err, kerr.GroupSubscribedToTopic) {
		return fmt.Errorf("%w: %w", daemon.ErrGroupActive, err)
	}
	return err
}

// partitionError names the partition an error is about, and marks a
// partition that does not exist as the user's to fix.
func partitionError(topic string, partition int32, err error) error {
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("%w: topic %s has no partition %d", connectors.ErrInvalidOffset, topic, partition)
	}
	err = groupError(err)
	return fmt.Errorf("topic %s partition %d: %w", topic, partition, err)
}
