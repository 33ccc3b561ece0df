package daemon

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sluice-cdc/sluice/connectors"
	"github.com/sluice-cdc/sluice/daemon/config"
	"github.com/sluice-cdc/sluice/daemon/store"
)

// Offset is one partition's offset as the offsets API (Kafka Connect's
// KIP-875) shows and changes it.
//
// A source's offsets are kept in the store by partition key, written
// name=value[,name=value] ("server=<topic.prefix>"), and shown as the
// partition object {"server": "<topic.prefix>"}; a key not of that form is
// shown as {"key": "<key>"}. A sink's offsets are its consumer group's
// committed offsets: partition {"kafka_topic": "<topic>", "kafka_partition":
// <n>}, offset {"kafka_offset": <next offset to read>}.
type Offset struct {
	// Partition holds strings, json.Numbers, booleans or nils, as decoded
	// with json.Decoder.UseNumber; nil when a change names none.
	Partition map[string]any
	// Offset is a JSON object; in a change, nil (or null) removes the
	// partition's offset.
	Offset json.RawMessage
}

// GroupOffset is a consumer group's committed offset of one partition: the
// offset of the next record to read.
type GroupOffset struct {
	Topic     string
	Partition int32
	Offset    int64
}

// GroupOffsets reads and changes consumer groups' committed offsets. The
// daemon's runtime implements it with Kafka's admin API; the supervisor
// uses it for sink connectors, whose positions live there.
type GroupOffsets interface {
	// Committed returns the group's committed offsets; none when the group
	// does not exist.
	Committed(ctx context.Context, group string) ([]GroupOffset, error)
	// Alter commits the offsets of set and deletes the committed offsets of
	// unset's partitions. An error wraps ErrGroupActive when the group has
	// members.
	Alter(ctx context.Context, group string, set, unset []GroupOffset) error
	// Reset deletes the group, and its offsets with it; a group that does
	// not exist is no error. An error wraps ErrGroupActive when the group
	// has members.
	Reset(ctx context.Context, group string) error
}

// Offsets returns a connector's offsets, sorted by partition. For a
// source they are what it keeps beside its database's own position (for
// Postgres the replication slot holds the streaming position; the offsets
// hold snapshot progress and the last confirmed LSN); for a sink, its
// consumer group's committed offsets.
func (s *Supervisor) Offsets(ctx context.Context, name string) ([]Offset, error) {
	info, err := s.Info(name)
	if err != nil {
		return nil, err
	}
	if info.Class != nil && info.Class.Kind == connectors.KindSink {
		return s.groupOffsets(ctx, name, info.Class)
	}
	rec, err := s.opts.Store.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("read offsets of connector %s: %w", name, err)
	}
	out := []Offset{}
	for _, k := range slices.Sorted(maps.Keys(rec.Offsets)) {
		out = append(out, Offset{Partition: partitionOf(k), Offset: rec.Offsets[k]})
	}
	return out, nil
}

// groupOffsets returns a sink's committed offsets.
func (s *Supervisor) groupOffsets(ctx context.Context, name string, class *connectors.Class) ([]Offset, error) {
	out := []Offset{}
	if class.Group == nil {
		return out, nil
	}
	groups, err := s.groups()
	if err != nil {
		return nil, err
	}
	group := class.Group(name)
	committed, err := groups.Committed(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("read the offsets of connector %s's consumer group %s: %w", name, group, err)
	}
	slices.SortFunc(committed, func(a, b GroupOffset) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	for _, o := range committed {
		out = append(out, Offset{
			Partition: map[string]any{"kafka_topic": o.Topic, "kafka_partition": o.Partition},
			Offset:    json.RawMessage(`{"kafka_offset":` + strconv.FormatInt(o.Offset, 10) + `}`),
		})
	}
	return out, nil
}

// AlterOffsets applies changes to a STOPPED connector's offsets, as Kafka
// Connect does: each partition's offset is set, or removed when the change
// has none. For a source, the class's AlterOffset first checks each offset
// and carries it out in the database; for a sink, the consumer group's
// committed offsets change, so that it resumes from there. It fails with
// ErrNotStopped unless the connector is STOPPED, and with an error wrapping
// connectors.ErrInvalidOffset, naming the problem, when a change is
// malformed or refused.
func (s *Supervisor) AlterOffsets(ctx context.Context, name string, changes []Offset) error {
	c, unlock, err := s.lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	if c.rec.Target != store.Stopped || s.active(c) {
		return notStopped(name)
	}
	class := config.ClassOf(c.rec.Config)
	if class != nil && class.Kind == connectors.KindSink {
		return s.alterGroup(ctx, name, class, changes)
	}
	return s.alterStored(ctx, name, c, class, changes)
}

// alterStored changes a source's stored offsets. c.op is held.
func (s *Supervisor) alterStored(ctx context.Context, name string, c *conn, class *connectors.Class, changes []Offset) error {
	keys := make([]string, len(changes))
	for i, ch := range changes {
		if ch.Partition == nil {
			return invalidOffsets("Invalid offsets body: offsets[%d].partition is missing", i)
		}
		part := map[string]string{}
		for k, v := range ch.Partition {
			str, ok := v.(string)
			if !ok {
				return invalidOffsets("Invalid offsets body: offsets[%d].partition.%s must be a string", i, k)
			}
			part[k] = str
		}
		key, err := keyOf(part)
		if err != nil {
			return invalidOffsets("Invalid offsets body: offsets[%d]: %v", i, err)
		}
		keys[i] = key
	}
	values := map[string]json.RawMessage{}
	for i, ch := range changes {
		if isNull(ch.Offset) {
			values[keys[i]] = nil
			continue
		}
		value := ch.Offset
		if class != nil && class.AlterOffset != nil {
			checked, ps := config.Check(config.Connector{Name: name, Config: c.rec.Config, File: c.rec.File}, s.opts.Resolver)
			if len(ps) > 0 {
				return ps
			}
			var err error
			if value, err = class.AlterOffset(ctx, checked.Config, keys[i], ch.Offset); err != nil {
				if errors.Is(err, connectors.ErrInvalidOffset) {
					return err
				}
				return fmt.Errorf("alter offset %s of connector %s: %w", keys[i], name, err)
			}
		}
		values[keys[i]] = value
	}
	return s.changeStored(ctx, name, func(cur map[string]json.RawMessage) map[string]json.RawMessage {
		next := maps.Clone(cur)
		if next == nil {
			next = map[string]json.RawMessage{}
		}
		for k, v := range values {
			if v == nil {
				delete(next, k)
			} else {
				next[k] = v
			}
		}
		return next
	})
}

// alterGroup changes a sink's committed offsets. c.op is held.
func (s *Supervisor) alterGroup(ctx context.Context, name string, class *connectors.Class, changes []Offset) error {
	if class.Group == nil {
		return invalidOffsets("Connector %s (class %s) commits no consumer group offsets: there are none to alter", name, class.Name)
	}
	set, unset, err := parseGroupOffsets(changes)
	if err != nil {
		return err
	}
	groups, err := s.groups()
	if err != nil {
		return err
	}
	group := class.Group(name)
	if err := groups.Alter(ctx, group, set, unset); err != nil {
		if errors.Is(err, ErrGroupActive) {
			return &kindError{fmt.Sprintf("Failed to alter consumer group offsets for connector %s either because its tasks haven't stopped completely yet "+
				"or the connector was resumed before the request to alter its offsets could be successfully completed. "+
				"If the connector is in a stopped state, this operation can be safely retried. If it doesn't eventually succeed, "+
				"another consumer is a member of consumer group %s: stop it (%v)", name, group, err), ErrGroupActive}
		}
		return fmt.Errorf("Failed to alter consumer group offsets for connector %s (consumer group %s): %w", name, group, err)
	}
	s.log.Info("connector consumer group offsets altered", "connector", name, "group", group, "set", len(set), "removed", len(unset))
	return nil
}

// parseGroupOffsets reads a sink's offset changes as Kafka Connect does
// (both 10 and "10" are numbers), with its messages.
func parseGroupOffsets(changes []Offset) (set, unset []GroupOffset, err error) {
	byPartition := map[GroupOffset]*int64{} // keyed with Offset 0
	var order []GroupOffset
	for _, ch := range changes {
		p := ch.Partition
		if p == nil {
			return nil, nil, invalidOffsets("The partition for a sink connector offset cannot be null or missing")
		}
		topic, okTopic := p["kafka_topic"]
		part, okPart := p["kafka_partition"]
		switch {
		case !okTopic || !okPart:
			return nil, nil, invalidOffsets("The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'")
		case topic == nil:
			return nil, nil, invalidOffsets("Kafka topic names must be valid strings and may not be null")
		case part == nil:
			return nil, nil, invalidOffsets("Kafka partitions must be valid numbers and may not be null")
		}
		n, perr := strconv.ParseInt(valueText(part), 10, 32)
		if perr != nil || n < 0 {
			return nil, nil, invalidOffsets("Failed to parse the following Kafka partition value in the provided offsets: '%s'. "+
				"Partition values for sink connectors need to be integers.", valueText(part))
		}
		tp := GroupOffset{Topic: valueText(topic), Partition: int32(n)}
		if _, seen := byPartition[tp]; !seen {
			order = append(order, tp)
		}
		byPartition[tp] = nil
		if isNull(ch.Offset) {
			continue
		}
		var off map[string]any
		dec := json.NewDecoder(bytes.NewReader(ch.Offset))
		dec.UseNumber()
		if err := dec.Decode(&off); err != nil {
			return nil, nil, invalidOffsets("The offset for a sink connector should either be null or contain the key 'kafka_offset'")
		}
		v, ok := off["kafka_offset"]
		if !ok {
			return nil, nil, invalidOffsets("The offset for a sink connector should either be null or contain the key 'kafka_offset'")
		}
		o, oerr := strconv.ParseInt(valueText(v), 10, 64)
		if oerr != nil || o < 0 {
			return nil, nil, invalidOffsets("Failed to parse the following Kafka offset value in the provided offsets: '%s'. "+
				"Offset values for sink connectors need to be integers.", valueText(v))
		}
		byPartition[tp] = &o
	}
	for _, tp := range order {
		if o := byPartition[tp]; o != nil {
			set = append(set, GroupOffset{Topic: tp.Topic, Partition: tp.Partition, Offset: *o})
		} else {
			unset = append(unset, tp)
		}
	}
	return set, unset, nil
}

// valueText is a decoded JSON scalar as Java's String.valueOf writes it.
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case json.Number:
		return x.String()
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// ResetOffsets removes all of a STOPPED connector's offsets, as Kafka
// Connect does. A source starts afresh on resume (for Postgres: a new
// snapshot if snapshot.mode asks for one, and streaming from the slot's
// confirmed position). A sink's consumer group is deleted, so that it
// reads its topics again from their start. Errors as AlterOffsets'.
func (s *Supervisor) ResetOffsets(ctx context.Context, name string) error {
	c, unlock, err := s.lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	if c.rec.Target != store.Stopped || s.active(c) {
		return notStopped(name)
	}
	class := config.ClassOf(c.rec.Config)
	if class == nil || class.Kind != connectors.KindSink {
		return s.changeStored(ctx, name, func(map[string]json.RawMessage) map[string]json.RawMessage { return nil })
	}
	if class.Group == nil {
		return nil
	}
	groups, err := s.groups()
	if err != nil {
		return err
	}
	group := class.Group(name)
	if err := groups.Reset(ctx, group); err != nil {
		if errors.Is(err, ErrGroupActive) {
			return &kindError{fmt.Sprintf("Failed to reset consumer group offsets for connector %s either because its tasks haven't stopped completely yet "+
				"or the connector was resumed before the request to reset its offsets could be successfully completed. "+
				"If the connector is in a stopped state, this operation can be safely retried. If it doesn't eventually succeed, "+
				"another consumer is a member of consumer group %s: stop it (%v)", name, group, err), ErrGroupActive}
		}
		return fmt.Errorf("Failed to reset consumer group offsets for sink connector %s (consumer group %s): %w", name, group, err)
	}
	s.log.Info("connector consumer group deleted: its offsets are reset", "connector", name, "group", group)
	return nil
}

// changeStored replaces a source's stored offsets by change's result.
// c.op is held.
func (s *Supervisor) changeStored(ctx context.Context, name string, change func(map[string]json.RawMessage) map[string]json.RawMessage) error {
	rec, err := s.opts.Store.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("read offsets of connector %s: %w", name, err)
	}
	if err := s.opts.Store.SetOffsets(ctx, name, change(rec.Offsets)); err != nil {
		return fmt.Errorf("write offsets of connector %s: %w", name, err)
	}
	s.log.Info("connector offsets changed", "connector", name)
	return nil
}

// groups is the GroupOffsets, or the error of a daemon without them.
func (s *Supervisor) groups() (GroupOffsets, error) {
	if s.opts.Groups == nil {
		return nil, errors.New("consumer group offsets need the Kafka runtime, which this daemon does not run")
	}
	return s.opts.Groups, nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// invalidOffsets is an offsets change refused with a message for the user.
func invalidOffsets(format string, args ...any) error {
	return &kindError{fmt.Sprintf(format, args...), connectors.ErrInvalidOffset}
}

// partitionOf turns an offset key into a partition object.
func partitionOf(key string) map[string]any {
	p := map[string]any{}
	for _, pair := range strings.Split(key, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return map[string]any{"key": key}
		}
		p[k] = v
	}
	return p
}

// keyOf turns a partition object into its offset key, or explains why it
// cannot.
func keyOf(p map[string]string) (string, error) {
	if len(p) == 0 {
		return "", fmt.Errorf("the partition must not be empty")
	}
	names := make([]string, 0, len(p))
	for k, v := range p {
		if k == "" || strings.ContainsAny(k, ",=") || strings.Contains(v, ",") {
			return "", fmt.Errorf("partition field %q: names may not be empty or contain ',' or '=', values may not contain ','", k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	pairs := make([]string, len(names))
	for i, k := range names {
		pairs[i] = k + "=" + p[k]
	}
	return strings.Join(pairs, ","), nil
}
