package offsetstest_test

import (
	"context"
	"testing"

	"github.com/sluice-cdc/sluice/testenv/offsetstest"
)

// TestMemory saves into a zero Memory and loads back what was saved, a
// copy that later changes to the saved slice do not reach, and nil for a
// key never saved.
func TestMemory(t *testing.T) {
	ctx := context.Background()
	var o offsetstest.Memory
	if v, err := o.Load(ctx, "a"); v != nil || err != nil {
		t.Fatalf("Load of an empty Memory: %q %v, want nil nil", v, err)
	}
	v := []byte(`{"lsn":1}`)
	if err := o.Save(ctx, "a", v); err != nil {
		t.Fatal(err)
	}
	copy(v, "XXXXXXXXX")
	if err := o.Save(ctx, "b", []byte(`{"lsn":2}`)); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"a": `{"lsn":1}`, "b": `{"lsn":2}`} {
		if got, err := o.Load(ctx, key); string(got) != want || err != nil {
			t.Errorf("Load(%s): %s %v, want %s", key, got, err, want)
		}
	}
	if got, err := o.Load(ctx, "c"); got != nil || err != nil {
		t.Errorf("Load(c): %q %v, want nil nil", got, err)
	}
}
