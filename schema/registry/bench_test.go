package registry

import (
	"context"
	"testing"
)

// BenchmarkRegisterWarm measures the encode hot path once the id is cached.
func BenchmarkRegisterWarm(b *testing.B) {
	srv, calls := startRegistry(b)
	c, _ := New(srv.URL)
	ctx := context.Background()
	if _, err := c.Register(ctx, "db.public.users", false, userV2); err != nil {
		b.Fatal(err)
	}
	before := calls.count.Load()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Register(ctx, "db.public.users", false, userV2); err != nil {
				b.Fatal(err)
			}
		}
	})
	if n := calls.count.Load() - before; n != 0 {
		b.Fatalf("warm registrations made %d requests", n)
	}
}

// BenchmarkSchemaWarm measures the decode hot path once the schema is cached.
func BenchmarkSchemaWarm(b *testing.B) {
	srv, _ := startRegistry(b)
	c, _ := New(srv.URL)
	ctx := context.Background()
	if _, err := c.Register(ctx, "db.public.users", false, userV2); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Schema(ctx, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
