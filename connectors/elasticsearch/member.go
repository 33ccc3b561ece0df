package elasticsearch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/connectors"
)

// instanceFile holds the sink's group.instance.id in its state directory.
const instanceFile = "group.instance.id"

// instanceID returns the sink's static group membership id
// (group.instance.id), created on first use and kept in the connector's
// state directory. A daemon restarted after a crash then rejoins the group
// as the same member at once and gets its partitions back, instead of
// waiting until the dead member's session times out (45 s by default). The
// id is the connector's name and a random suffix, so that two daemons with
// their own state directories are two members. Without a state directory
// the membership is dynamic: "" is returned.
func instanceID(stateDir, connector string) (string, error) {
	if stateDir == "" {
		return "", nil
	}
	path := filepath.Join(stateDir, instanceFile)
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read the sink's group member id: %w", err)
	}
	suffix := make([]byte, 8)
	rand.Read(suffix)
	id := "sluice-" + connector + "-" + hex.EncodeToString(suffix)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return "", fmt.Errorf("create state directory for the sink's group member id: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the sink's group member id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write the sink's group member id: %w", err)
	}
	return id, nil
}

// leaveGroup takes the sink's static member out of its group once the
// sink has stopped (stopped, paused, deleted, or failed), as a dynamic
// member leaves when it closes, so that the group does not hold its
// partitions until its session times out. Only a crash leaves the member
// in the group, for the restarted daemon to take back.
func (s *Sink) leaveGroup(k connectors.Kafka, member string) {
	if member == "" {
		return
	}
	cl, err := kgo.NewClient(append(slices.Clone(k.Opts), kgo.SeedBrokers(k.Brokers...))...)
	if err == nil {
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var res kadm.LeaveGroupResponses
		res, err = kadm.NewClient(cl).LeaveGroup(ctx, kadm.LeaveGroup(GroupID(s.env.Name)).InstanceIDs(member).Reason("sink stopped"))
		if err == nil {
			err = res.Error()
		}
	}
	if err != nil && !errors.Is(err, kerr.UnknownMemberID) {
		s.log.Warn("leave consumer group failed; its partitions wait for the session timeout", "group", GroupID(s.env.Name), "member", member, "error", err)
	}
}
