package elasticsearch

import (
	"cmp"
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

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

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
// in the group, for the restarted daemon to take back. It leaves as the
// member id the sink last joined with: when another run of the task has
// taken the static member's place since (cluster mode moved the task off
// an instance that stopped answering), Kafka refuses the leave as fenced
// and the other run stays a member.
func (s *Sink) leaveGroup(k connectors.Kafka, member string) {
	if member == "" || s.joined == "" {
		return
	}
	cl, err := kgo.NewClient(append(slices.Clone(k.Opts), kgo.SeedBrokers(k.Brokers...))...)
	if err == nil {
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group = GroupID(s.env.Name)
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID, m.InstanceID, m.Reason = s.joined, kmsg.StringPtr(member), kmsg.StringPtr("sink stopped")
		req.Members = append(req.Members, m)
		var resp *kmsg.LeaveGroupResponse
		if resp, err = req.RequestWith(ctx, cl); err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
			for _, mr := range resp.Members {
				err = cmp.Or(err, kerr.ErrorForCode(mr.ErrorCode))
			}
		}
	}
	switch {
	case err == nil, errors.Is(err, kerr.UnknownMemberID):
	case errors.Is(err, kerr.FencedInstanceID):
		s.log.Info("another run of this task has taken its place in the consumer group; leaving it there", "group", GroupID(s.env.Name), "member", member)
	default:
		s.log.Warn("leave consumer group failed; its partitions wait for the session timeout", "group", GroupID(s.env.Name), "member", member, "error", err)
	}
}
