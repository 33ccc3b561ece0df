package elasticsearch

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
