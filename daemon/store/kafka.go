package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
)

// Topics names the three storage topics of cluster mode and how they are
// created when missing (compacted, with these partitions and replication
// factors; -1 takes the broker's default).
type Topics struct {
	Config            string
	ConfigReplication int16
	Offsets           string
	OffsetPartitions  int32
	OffsetReplication int16
	Status            string
	StatusPartitions  int32
	StatusReplication int16
}

// Status is a connector's runtime status as its owner last published it in
// the status topic.
type Status struct {
	State    string       `json:"state"`
	Trace    string       `json:"trace,omitempty"`
	WorkerID string       `json:"worker_id"`
	Tasks    []TaskStatus `json:"tasks,omitempty"`
	// Epoch is the owner's fencing epoch (see Kafka.Claim): a status of an
	// older epoch than one already read is ignored.
	Epoch int64 `json:"epoch"`
}

// TaskStatus is one task's part of a Status.
type TaskStatus struct {
	ID       int    `json:"id"`
	State    string `json:"state"`
	Trace    string `json:"trace,omitempty"`
	WorkerID string `json:"worker_id"`
}

// ErrFenced is returned for an offset written by an instance whose claim on
// the connector a newer claim has replaced: every reader ignores it.
var ErrFenced = errors.New("offset write fenced: another instance has claimed the connector since")

// epochHeader carries the writer's fencing epoch on offset records.
const epochHeader = "sluice.epoch"

// Kafka is a Store kept in three compacted Kafka topics shared by every
// instance of a cluster, as Kafka Connect's distributed workers keep theirs.
// Each instance reads all three from the start and follows them; a write
// returns once this instance has read it back, so a change made through one
// instance is visible to its next read, and to every other instance as soon
// as they have read it.
//
//   - config topic (one partition): "connector-<name>" holds the
//     configuration, "target-state-<name>" the target state,
//     "topics-<name>" the active topics;
//   - offset topic: key ["<name>","<partition key>"] holds a source offset,
//     with the writer's epoch in the sluice.epoch header; key ["<task>"]
//     holds a task's fence, the epoch of its latest claim (a task is named
//     as Task.String does: task 0 as the connector, whose fence its
//     offsets are checked against). Every record of a connector goes to
//     one partition (hash of its name), so that all readers see its fences
//     and its offsets in one order and drop the same late writes;
//   - status topic: "status-<task>" holds the status the task's owner
//     published (the connector's own with task 0's).
//
// Deleting a connector writes tombstones for all of its keys.
type Kafka struct {
	cl     *kgo.Client
	adm    *kadm.Client
	topics Topics
	log    *slog.Logger
	parts  map[string]int32 // partitions by topic
	cancel context.CancelFunc
	done   chan struct{} // closed when the follower returns

	mu       sync.Mutex
	advanced chan struct{} // closed and replaced whenever read moves
	read     map[string][]int64
	configs  map[string]kafkaConfig
	targets  map[string]Target
	active   map[string][]string
	offsets  map[string]map[string]json.RawMessage
	fences   map[string]int64  // by task (Task.String)
	claims   map[string]int64  // epochs this instance claimed, by task
	statuses map[string]Status // by task
	restarts map[string]string // the latest restart request read, by connector
	taken    map[string]string // the restart requests acted on here
	watch    func(name string)
}

var _ Store = (*Kafka)(nil)

// kafkaConfig is a connector record's value, as Kafka Connect's "properties".
type kafkaConfig struct {
	Properties map[string]string `json:"properties"`
	File       string            `json:"file,omitempty"`
}

// OpenKafka creates the storage topics if they are missing, checks that
// they are compacted, and reads them to their end before returning; a
// goroutine then follows them until Close. opts connect the client (seed
// brokers, SASL, TLS).
func OpenKafka(ctx context.Context, topics Topics, log *slog.Logger, opts ...kgo.Opt) (*Kafka, error) {
	// A topic just created shows in metadata a moment later: ask often.
	admCl, err := kgo.NewClient(append(slices.Clone(opts), kgo.MetadataMinAge(50*time.Millisecond))...)
	if err != nil {
		return nil, fmt.Errorf("connect to Kafka for the storage topics: %w", err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	parts := map[string]int32{}
	for _, t := range []struct {
		name  string
		parts int32
		rf    int16
	}{{topics.Config, 1, topics.ConfigReplication}, {topics.Offsets, topics.OffsetPartitions, topics.OffsetReplication}, {topics.Status, topics.StatusPartitions, topics.StatusReplication}} {
		n, err := ensureTopic(ctx, adm, t.name, t.parts, t.rf)
		if err != nil {
			return nil, err
		}
		parts[t.name] = n
	}
	if parts[topics.Config] != 1 {
		return nil, fmt.Errorf("config storage topic %q has %d partitions, want exactly 1 (its records must stay in one order)", topics.Config, parts[topics.Config])
	}
	consume := map[string]map[int32]kgo.Offset{}
	for t, n := range parts {
		consume[t] = map[int32]kgo.Offset{}
		for p := range n {
			consume[t][p] = kgo.NewOffset().AtStart()
		}
	}
	cl, err := kgo.NewClient(append(slices.Clone(opts),
		kgo.ConsumePartitions(consume),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
	)...)
	if err != nil {
		return nil, fmt.Errorf("connect to Kafka for the storage topics: %w", err)
	}
	follow, cancel := context.WithCancel(context.Background())
	k := &Kafka{
		cl: cl, adm: kadm.NewClient(cl), topics: topics, log: log, parts: parts, cancel: cancel, done: make(chan struct{}),
		advanced: make(chan struct{}), read: map[string][]int64{},
		configs: map[string]kafkaConfig{}, targets: map[string]Target{}, active: map[string][]string{},
		offsets: map[string]map[string]json.RawMessage{}, fences: map[string]int64{}, claims: map[string]int64{},
		statuses: map[string]Status{}, restarts: map[string]string{}, taken: map[string]string{},
	}
	for t, n := range parts {
		k.read[t] = make([]int64, n)
	}
	go k.follow(follow)
	if err := k.CatchUp(ctx); err != nil {
		k.Close()
		return nil, fmt.Errorf("read the storage topics: %w", err)
	}
	log.Info("storage topics read", "config", topics.Config, "offsets", topics.Offsets, "status", topics.Status, "connectors", len(k.configs))
	return k, nil
}

// Close stops following the topics and closes the client.
func (k *Kafka) Close() {
	k.cancel()
	<-k.done
	k.cl.Close()
}

// Watch makes f be called with a connector's name after each change of
// its configuration, target state, or existence is read, from whichever
// instance; f runs on the follower's goroutine and must neither block nor
// call the store.
func (k *Kafka) Watch(f func(name string)) {
	k.mu.Lock()
	k.watch = f
	k.mu.Unlock()
}

// follow reads the topics until ctx ends.
func (k *Kafka) follow(ctx context.Context) {
	defer close(k.done)
	for {
		fetches := k.cl.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			k.log.Warn("read storage topic", "topic", topic, "partition", partition, "error", err.Error())
		})
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) == 0 {
				return
			}
			var changed []string
			k.mu.Lock()
			for _, r := range p.Records {
				if name, ok := k.apply(r); ok {
					changed = append(changed, name)
				}
			}
			k.read[p.Topic][p.Partition] = p.Records[len(p.Records)-1].Offset + 1
			close(k.advanced)
			k.advanced = make(chan struct{})
			watch := k.watch
			k.mu.Unlock()
			if watch != nil {
				for _, name := range changed {
					watch(name)
				}
			}
		})
	}
}

// apply applies one record read; it returns the connector whose
// definition changed, if any. k.mu is held.
func (k *Kafka) apply(r *kgo.Record) (string, bool) {
	key := string(r.Key)
	bad := func(err error) (string, bool) {
		k.log.Warn("skip malformed record in a storage topic", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "key", key, "error", err.Error())
		return "", false
	}
	switch r.Topic {
	case k.topics.Config:
		switch {
		case strings.HasPrefix(key, "connector-"):
			name := strings.TrimPrefix(key, "connector-")
			if r.Value == nil {
				delete(k.configs, name)
				return name, true
			}
			var c kafkaConfig
			if err := json.Unmarshal(r.Value, &c); err != nil {
				return bad(err)
			}
			k.configs[name] = c
			return name, true
		case strings.HasPrefix(key, "target-state-"):
			name := strings.TrimPrefix(key, "target-state-")
			if r.Value == nil {
				delete(k.targets, name)
				return name, true
			}
			var v struct {
				State string `json:"state"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil {
				return bad(err)
			}
			t, ok := ParseTarget(v.State)
			if !ok {
				return bad(fmt.Errorf("unknown target state %q", v.State))
			}
			k.targets[name] = t
			return name, true
		case strings.HasPrefix(key, "restart-"):
			name := strings.TrimPrefix(key, "restart-")
			if r.Value == nil {
				delete(k.restarts, name)
				return "", false
			}
			k.restarts[name] = string(r.Value)
			return name, true
		case strings.HasPrefix(key, "topics-"):
			name := strings.TrimPrefix(key, "topics-")
			if r.Value == nil {
				delete(k.active, name)
				return "", false
			}
			var v struct {
				Topics []string `json:"topics"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil {
				return bad(err)
			}
			k.active[name] = v.Topics
		}
	case k.topics.Offsets:
		var parts []string
		if err := json.Unmarshal(r.Key, &parts); err != nil || len(parts) < 1 || len(parts) > 2 {
			return bad(fmt.Errorf("want the key [connector] or [connector, partition key]"))
		}
		name := parts[0]
		if len(parts) == 1 {
			if r.Value == nil {
				delete(k.fences, name)
				return "", false
			}
			var v struct {
				Epoch int64 `json:"epoch"`
			}
			if err := json.Unmarshal(r.Value, &v); err != nil {
				return bad(err)
			}
			k.fences[name] = v.Epoch
			return "", false
		}
		if epochOf(r) < k.fences[name] {
			k.log.Warn("offset write of a fenced instance ignored", "connector", name, "partition_key", parts[1], "epoch", epochOf(r), "fence", k.fences[name])
			return "", false
		}
		if r.Value == nil {
			delete(k.offsets[name], parts[1])
			return "", false
		}
		if k.offsets[name] == nil {
			k.offsets[name] = map[string]json.RawMessage{}
		}
		k.offsets[name][parts[1]] = json.RawMessage(r.Value)
	case k.topics.Status:
		name, ok := strings.CutPrefix(key, "status-")
		if !ok {
			return bad(fmt.Errorf("unknown key"))
		}
		if r.Value == nil {
			delete(k.statuses, name)
			return "", false
		}
		var st Status
		if err := json.Unmarshal(r.Value, &st); err != nil {
			return bad(err)
		}
		if old, ok := k.statuses[name]; !ok || st.Epoch >= old.Epoch {
			k.statuses[name] = st
		}
	}
	return "", false
}

// epochOf is the fencing epoch an offset record was written with.
func epochOf(r *kgo.Record) int64 {
	for _, h := range r.Headers {
		if h.Key == epochHeader {
			n, _ := strconv.ParseInt(string(h.Value), 10, 64)
			return n
		}
	}
	return 0
}

// CatchUp returns once every record in the topics when it was called has
// been read.
func (k *Kafka) CatchUp(ctx context.Context) error {
	ends, err := k.adm.ListEndOffsets(ctx, k.topics.Config, k.topics.Offsets, k.topics.Status)
	if err != nil {
		return fmt.Errorf("list the storage topics' end offsets: %w", err)
	}
	if err := ends.Error(); err != nil {
		return fmt.Errorf("list the storage topics' end offsets: %w", err)
	}
	return k.await(ctx, func() bool {
		ok := true
		ends.Each(func(o kadm.ListedOffset) {
			if read := k.read[o.Topic]; int(o.Partition) < len(read) && read[o.Partition] < o.Offset {
				ok = false
			}
		})
		return ok
	})
}

// await waits until done, called with k.mu held, reports true.
func (k *Kafka) await(ctx context.Context, done func() bool) error {
	for {
		k.mu.Lock()
		ok, ch := done(), k.advanced
		k.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-k.done:
			return errors.New("the storage topics' reader has stopped")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// write produces records and waits until this instance has read them.
func (k *Kafka) write(ctx context.Context, recs ...*kgo.Record) error {
	if err := k.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("write to the storage topics: %w", err)
	}
	return k.await(ctx, func() bool {
		for _, r := range recs {
			if k.read[r.Topic][r.Partition] <= r.Offset {
				return false
			}
		}
		return true
	})
}

// partition is the partition of a topic that holds a connector's records.
func (k *Kafka) partition(topic, name string) int32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int32(h.Sum32() % uint32(k.parts[topic]))
}

func (k *Kafka) configRecord(key string, value any) *kgo.Record {
	r := &kgo.Record{Topic: k.topics.Config, Partition: 0, Key: []byte(key)}
	if value != nil {
		r.Value, _ = json.Marshal(value)
	}
	return r
}

func (k *Kafka) offsetRecord(name string, key []string, value []byte, epoch int64) *kgo.Record {
	rk, _ := json.Marshal(key)
	return &kgo.Record{Topic: k.topics.Offsets, Partition: k.partition(k.topics.Offsets, name), Key: rk, Value: value,
		Headers: []kgo.RecordHeader{{Key: epochHeader, Value: []byte(strconv.FormatInt(epoch, 10))}}}
}

// recordLocked assembles a connector's Record. k.mu is held.
func (k *Kafka) recordLocked(name string) (Record, bool) {
	c, ok := k.configs[name]
	if !ok {
		return Record{}, false
	}
	t, ok := k.targets[name]
	if !ok {
		t = Running
	}
	r := Record{Name: name, Config: maps.Clone(c.Properties), Target: t, File: c.File}
	if len(k.offsets[name]) > 0 {
		r.Offsets = maps.Clone(k.offsets[name])
	}
	if len(k.active[name]) > 0 {
		r.Topics = slices.Clone(k.active[name])
	}
	return r, true
}

// List returns every connector, sorted by name.
func (k *Kafka) List(ctx context.Context) ([]Record, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]Record, 0, len(k.configs))
	for name := range k.configs {
		r, _ := k.recordLocked(name)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns the named connector.
func (k *Kafka) Get(ctx context.Context, name string) (Record, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.recordLocked(name)
	if !ok {
		return Record{}, fmt.Errorf("connector %q: %w", name, ErrNotFound)
	}
	return r, nil
}

// exists fails with ErrNotFound for a connector the topics do not hold.
func (k *Kafka) exists(name string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.configs[name]; !ok {
		return fmt.Errorf("connector %q: %w", name, ErrNotFound)
	}
	return nil
}

// Put writes a connector's target state, then its configuration, as Kafka
// Connect does, so that it starts in that state.
func (k *Kafka) Put(ctx context.Context, rec Record) error {
	if rec.Name == "" {
		return fmt.Errorf("store connector: empty name")
	}
	t := rec.Target
	if t == "" {
		t = Running
	}
	return k.write(ctx,
		k.configRecord("target-state-"+rec.Name, map[string]string{"state": string(t)}),
		k.configRecord("connector-"+rec.Name, kafkaConfig{Properties: rec.Config, File: rec.File}))
}

// SetTarget changes a connector's target state.
func (k *Kafka) SetTarget(ctx context.Context, name string, t Target) error {
	if err := k.exists(name); err != nil {
		return err
	}
	return k.write(ctx, k.configRecord("target-state-"+name, map[string]string{"state": string(t)}))
}

// SetTopics replaces a connector's active topics.
func (k *Kafka) SetTopics(ctx context.Context, name string, topics []string) error {
	if err := k.exists(name); err != nil {
		return err
	}
	if len(topics) == 0 {
		return k.write(ctx, k.configRecord("topics-"+name, nil))
	}
	return k.write(ctx, k.configRecord("topics-"+name, map[string][]string{"topics": topics}))
}

// SetOffsets replaces all of a connector's offsets, with the epoch of this
// instance's claim or else the current fence.
func (k *Kafka) SetOffsets(ctx context.Context, name string, offsets map[string]json.RawMessage) error {
	if err := k.exists(name); err != nil {
		return err
	}
	k.mu.Lock()
	epoch := k.epochLocked(name)
	var recs []*kgo.Record
	for key := range k.offsets[name] {
		if _, kept := offsets[key]; !kept {
			recs = append(recs, k.offsetRecord(name, []string{name, key}, nil, epoch))
		}
	}
	k.mu.Unlock()
	for key, v := range offsets {
		recs = append(recs, k.offsetRecord(name, []string{name, key}, v, epoch))
	}
	if len(recs) == 0 {
		return nil
	}
	return k.write(ctx, recs...)
}

// epochLocked is the epoch this instance writes a connector's offsets
// with: its claim's, or the current fence when it holds none. k.mu is held.
func (k *Kafka) epochLocked(name string) int64 {
	if e, ok := k.claims[name]; ok {
		return e
	}
	return k.fences[name]
}

// Delete writes tombstones for every key of the connector.
func (k *Kafka) Delete(ctx context.Context, name string) error {
	if err := k.exists(name); err != nil {
		return err
	}
	k.mu.Lock()
	recs := []*kgo.Record{
		k.configRecord("connector-"+name, nil),
		k.configRecord("target-state-"+name, nil),
		k.configRecord("topics-"+name, nil),
		k.configRecord("restart-"+name, nil),
	}
	epoch := k.epochLocked(name)
	for key := range k.offsets[name] {
		recs = append(recs, k.offsetRecord(name, []string{name, key}, nil, epoch))
	}
	for _, task := range k.tasksLocked(name) {
		recs = append(recs, k.offsetRecord(name, []string{task}, nil, epoch),
			&kgo.Record{Topic: k.topics.Status, Partition: k.partition(k.topics.Status, name), Key: []byte("status-" + task)})
		delete(k.claims, task)
	}
	k.mu.Unlock()
	return k.write(ctx, recs...)
}

// tasksLocked names every task of the connector the topics hold a fence
// or a status of, and always its task 0. k.mu is held.
func (k *Kafka) tasksLocked(name string) []string {
	tasks := map[string]bool{name: true}
	for _, m := range []map[string]int64{k.fences, k.claims} {
		for t := range m {
			if task, err := ParseTask(t); err == nil && task.Connector == name {
				tasks[t] = true
			}
		}
	}
	for t := range k.statuses {
		if task, err := ParseTask(t); err == nil && task.Connector == name {
			tasks[t] = true
		}
	}
	return slices.Sorted(maps.Keys(tasks))
}

// Claim fences off every earlier runner of the task: it reads the offset
// topic to its end and writes a fence one epoch above the last, which this
// instance's offset writes (task 0's) and status writes then carry. The
// owner of a task calls it before starting it; offsets written afterwards
// by an instance that lost the connector are ignored by every reader, and
// its Save fails with ErrFenced; so are its statuses.
func (k *Kafka) Claim(ctx context.Context, task Task) (int64, error) {
	if err := k.CatchUp(ctx); err != nil {
		return 0, err
	}
	id := task.String()
	k.mu.Lock()
	epoch := k.fences[id] + 1
	k.mu.Unlock()
	value, _ := json.Marshal(map[string]int64{"epoch": epoch})
	if err := k.write(ctx, k.offsetRecord(task.Connector, []string{id}, value, epoch)); err != nil {
		return 0, fmt.Errorf("claim task %s: %w", id, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fences[id] != epoch {
		return 0, fmt.Errorf("claim task %s: another instance claimed it at the same time (epoch %d)", id, k.fences[id])
	}
	k.claims[id] = epoch
	if req, ok := k.restarts[task.Connector]; ok {
		k.taken[task.Connector] = req // the task starts afresh anyway
	}
	return epoch, nil
}

// AllTasks asks for a restart of every task of a connector (RequestRestart).
const AllTasks = -1

// restartRequest is the value of a restart request in the config topic.
type restartRequest struct {
	Requested int64 `json:"requested"`
	// Task is the task to restart; absent, every task.
	Task *int `json:"task,omitempty"`
}

// RequestRestart asks the instances that run a connector's tasks to
// restart task (or every task, with AllTasks). Kafka Connect forwards such
// a request to the owner; here it goes through the config topic.
func (k *Kafka) RequestRestart(ctx context.Context, name string, task int) error {
	if err := k.exists(name); err != nil {
		return err
	}
	req := restartRequest{Requested: time.Now().UnixNano()}
	if task != AllTasks {
		req.Task = &task
	}
	return k.write(ctx, k.configRecord("restart-"+name, req))
}

// TakeRestart reports whether a restart of the connector's tasks was
// requested since this instance last took one, and of which task
// (AllTasks for every one); a request read before this instance claimed a
// task of the connector is not one for it.
func (k *Kafka) TakeRestart(name string) (task int, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	raw, ok := k.restarts[name]
	if !ok || k.taken[name] == raw {
		return 0, false
	}
	k.taken[name] = raw
	var req restartRequest
	if err := json.Unmarshal([]byte(raw), &req); err != nil || req.Task == nil {
		return AllTasks, true
	}
	return *req.Task, true
}

// Release forgets this instance's claim on a task it no longer runs.
func (k *Kafka) Release(task Task) {
	k.mu.Lock()
	delete(k.claims, task.String())
	k.mu.Unlock()
}

// PutStatus publishes the status of a task this instance has claimed; for
// task 0, it is the connector's status too.
func (k *Kafka) PutStatus(ctx context.Context, task Task, st Status) error {
	id := task.String()
	k.mu.Lock()
	epoch, ok := k.claims[id]
	k.mu.Unlock()
	if !ok {
		return nil
	}
	st.Epoch = epoch
	value, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return k.write(ctx, &kgo.Record{Topic: k.topics.Status, Partition: k.partition(k.topics.Status, task.Connector), Key: []byte("status-" + id), Value: value})
}

// Status returns the status a task's owner last published.
func (k *Kafka) Status(task Task) (Status, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	st, ok := k.statuses[task.String()]
	st.Tasks = slices.Clone(st.Tasks)
	return st, ok
}

// Offsets is the named connector's OffsetStore.
func (k *Kafka) Offsets(name string) connectors.OffsetStore { return kafkaOffsets{k, name} }

// kafkaOffsets is one connector's view of Kafka as a connectors.OffsetStore.
type kafkaOffsets struct {
	k    *Kafka
	name string
}

// Load returns the offset stored under key, or nil when there is none.
func (o kafkaOffsets) Load(ctx context.Context, key string) ([]byte, error) {
	o.k.mu.Lock()
	defer o.k.mu.Unlock()
	if _, ok := o.k.configs[o.name]; !ok {
		return nil, fmt.Errorf("load offset %q of connector %q: %w", key, o.name, ErrNotFound)
	}
	return slices.Clone(o.k.offsets[o.name][key]), nil
}

// Save writes value, a JSON document, under key with this instance's
// epoch; it fails with ErrFenced when a newer claim has fenced this
// instance off, the write then being ignored by every reader.
func (o kafkaOffsets) Save(ctx context.Context, key string, value []byte) error {
	if !json.Valid(value) {
		return fmt.Errorf("save offset %q of connector %q: value is not a JSON document", key, o.name)
	}
	if err := o.k.exists(o.name); err != nil {
		return fmt.Errorf("save offset %q: %w", key, err)
	}
	o.k.mu.Lock()
	epoch := o.k.epochLocked(o.name)
	o.k.mu.Unlock()
	if err := o.k.write(ctx, o.k.offsetRecord(o.name, []string{o.name, key}, slices.Clone(value), epoch)); err != nil {
		return fmt.Errorf("save offset %q of connector %q: %w", key, o.name, err)
	}
	o.k.mu.Lock()
	fence := o.k.fences[o.name]
	o.k.mu.Unlock()
	if fence > epoch {
		return fmt.Errorf("save offset %q of connector %q at epoch %d, fenced at %d: %w", key, o.name, epoch, fence, ErrFenced)
	}
	return nil
}
