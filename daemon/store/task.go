package store

import (
	"fmt"
	"strconv"
	"strings"
)

// Task names one task of a connector: what cluster mode assigns to an
// instance, and what that instance claims and publishes the status of. A
// connector runs tasks 0 to n-1 (n is 1 but for a sink with tasks.max);
// its first task and the connector itself run together.
type Task struct {
	Connector string
	ID        int
}

// String names the task as the group protocol and the storage topics do:
// the connector's name for task 0, so that a single-task connector is
// named as itself, and "<name>/<id>" for the others (a connector's name
// never holds '/').
func (t Task) String() string {
	if t.ID == 0 {
		return t.Connector
	}
	return t.Connector + "/" + strconv.Itoa(t.ID)
}

// ParseTask reads a task's name as String writes it.
func ParseTask(s string) (Task, error) {
	name, id, ok := strings.Cut(s, "/")
	if !ok {
		return Task{Connector: s}, nil
	}
	n, err := strconv.Atoi(id)
	if err != nil || n < 1 || name == "" {
		return Task{}, fmt.Errorf("task %q: want <connector> or <connector>/<task number from 1>", s)
	}
	return Task{Connector: name, ID: n}, nil
}

// Tasks names the n tasks of a connector, in order.
func Tasks(connector string, n int) []Task {
	out := make([]Task, n)
	for i := range out {
		out[i] = Task{Connector: connector, ID: i}
	}
	return out
}
