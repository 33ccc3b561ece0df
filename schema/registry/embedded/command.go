package embedded

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Operations a command record asks every reader to apply.
const (
	opRegister      = "REGISTER"
	opDeleteSubject = "DELETE_SUBJECT"
	opDeleteVersion = "DELETE_VERSION"
	opSetConfig     = "SET_CONFIG"
	opDeleteConfig  = "DELETE_CONFIG"
)

// keyType marks this registry's records in the topic; records with another key type (for
// example a Confluent registry's) are skipped by every reader alike.
const keyType = "SLUICE_SR_COMMAND"

// commandKey is a record key. Nonce is random and unique per command, so log compaction never
// removes a command (it only removes records superseded by a later record with the same key).
type commandKey struct {
	KeyType string `json:"keytype"`
	Magic   int    `json:"magic"`
	Nonce   string `json:"nonce"`
}

// command is a record value: a proposed change, applied by every reader in log order.
type command struct {
	Op      string `json:"op"`
	Subject string `json:"subject,omitempty"`

	// REGISTER: the normalized schema text and its type, plus what the proposer checked
	// compatibility against: the subject's revision and the effective level at that time.
	Schema     string `json:"schema,omitempty"`
	SchemaType string `json:"schemaType,omitempty"`
	Basis      int64  `json:"basis,omitempty"`

	// REGISTER: the level the proposer checked with; SET_CONFIG: the new level.
	Level Level `json:"level,omitempty"`

	// DELETE_VERSION: which version. DELETE_*: whether it is a hard delete.
	Version   int  `json:"version,omitempty"`
	Permanent bool `json:"permanent,omitempty"`
}

func newNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate command nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func encodeCommand(nonce string, c command) (key, value []byte, err error) {
	key, err = json.Marshal(commandKey{KeyType: keyType, Magic: 1, Nonce: nonce})
	if err != nil {
		return nil, nil, fmt.Errorf("encode command key: %w", err)
	}
	value, err = json.Marshal(c)
	if err != nil {
		return nil, nil, fmt.Errorf("encode %s command for subject %q: %w", c.Op, c.Subject, err)
	}
	return key, value, nil
}

// decodeCommand returns an error for records that are not this registry's commands.
func decodeCommand(key, value []byte) (nonce string, c command, err error) {
	var k commandKey
	if err := json.Unmarshal(key, &k); err != nil || k.KeyType != keyType {
		return "", command{}, fmt.Errorf("record key %q is not a %s key", key, keyType)
	}
	if k.Magic != 1 {
		return "", command{}, fmt.Errorf("record key %q has unsupported magic %d", key, k.Magic)
	}
	if err := json.Unmarshal(value, &c); err != nil {
		return "", command{}, fmt.Errorf("decode command %s: %w", k.Nonce, err)
	}
	return k.Nonce, c, nil
}
