package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// evictMembers removes every member of a consumer group, as the
// coordinator does when their sessions expire: after a kill -9 the dead
// consumer stays a member until session.timeout.ms (45 s) passes, and the
// group cannot rebalance to a new member before. It returns how many it
// removed. Call it only while no live consumer is in the group.
func evictMembers(ctx context.Context, cl *kgo.Client, group string) (int, error) {
	described, err := kadm.NewClient(cl).DescribeGroups(ctx, group)
	if err != nil {
		return 0, fmt.Errorf("describe group %s: %w", group, err)
	}
	g, ok := described[group]
	if !ok {
		return 0, fmt.Errorf("describe group %s: not in the answer", group)
	}
	if g.Err != nil {
		return 0, fmt.Errorf("describe group %s: %w", group, g.Err)
	}
	if len(g.Members) == 0 {
		return 0, nil
	}
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = group
	for _, m := range g.Members {
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.MemberID, lm.InstanceID = m.MemberID, m.InstanceID
		req.Members = append(req.Members, lm)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, fmt.Errorf("remove members of group %s: %w", group, err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return 0, fmt.Errorf("remove members of group %s: %w", group, err)
	}
	removed := 0
	for _, m := range resp.Members {
		err := kerr.ErrorForCode(m.ErrorCode)
		switch {
		case err == nil:
			removed++
		case errors.Is(err, kerr.UnknownMemberID): // its session expired meanwhile
		default:
			return removed, fmt.Errorf("remove member %s of group %s: %w", m.MemberID, group, err)
		}
	}
	return removed, nil
}
