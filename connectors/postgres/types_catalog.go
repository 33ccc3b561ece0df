package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// TypeInfo is what pg_type (and pg_enum) say about one data type.
type TypeInfo struct {
	OID       uint32
	Name      string // typname, e.g. "int4", "_int4", "mood"
	Namespace string // nspname, e.g. "pg_catalog"
	// Kind is typtype: 'b' base, 'c' composite, 'd' domain, 'e' enum,
	// 'p' pseudo, 'r' range, 'm' multirange.
	Kind byte
	// Category is typcategory: 'A' for arrays, 'N' numeric, 'S' string, …
	Category byte
	Elem     uint32 // typelem: the element type of an array
	// BaseType and BaseTypmod are typbasetype and typtypmod: the type a
	// domain is defined over and the modifier it applies to it.
	BaseType   uint32
	BaseTypmod int32
	NotNull    bool     // typnotnull: the domain has a NOT NULL constraint
	Delim      byte     // typdelim: the array element delimiter, ',' for nearly all types
	EnumLabels []string // the labels of an enum, in pg_enum.enumsortorder order
}

// IsArray reports whether the type is an array type.
func (t *TypeInfo) IsArray() bool { return t.Category == 'A' && t.Elem != 0 }

// TypeLookup answers what a type OID is. The Mapper uses it to resolve
// arrays, domains and enums; TypeResolver is the catalog-backed implementation.
type TypeLookup interface {
	Type(ctx context.Context, oid uint32) (*TypeInfo, error)
}

// Querier runs one query returning one row; *pgx.Conn and *pgxpool.Pool
// satisfy it. It must be a regular (not replication) connection.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// TypeResolver reads types from pg_type and pg_enum and caches them by OID.
// It is safe for concurrent use; lookups of different OIDs may run
// concurrently, the cache is shared.
type TypeResolver struct {
	db    Querier
	mu    sync.Mutex
	cache map[uint32]*TypeInfo
}

var _ TypeLookup = (*TypeResolver)(nil)

// NewTypeResolver returns a resolver that queries db for types it has not seen.
func NewTypeResolver(db Querier) *TypeResolver {
	return &TypeResolver{db: db, cache: make(map[uint32]*TypeInfo)}
}

const typeQuery = `
SELECT t.oid, t.typname::text, n.nspname::text, t.typtype::text, t.typcategory::text,
       t.typelem, t.typbasetype, t.typtypmod, t.typnotnull, t.typdelim::text,
       COALESCE((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
                 FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '{}')
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.oid = $1`

// Type returns the catalog entry of oid, from the cache when present.
func (r *TypeResolver) Type(ctx context.Context, oid uint32) (*TypeInfo, error) {
	r.mu.Lock()
	t, ok := r.cache[oid]
	r.mu.Unlock()
	if ok {
		return t, nil
	}
	var (
		info                  TypeInfo
		kind, category, delim string
	)
	err := r.db.QueryRow(ctx, typeQuery, oid).Scan(&info.OID, &info.Name, &info.Namespace, &kind, &category,
		&info.Elem, &info.BaseType, &info.BaseTypmod, &info.NotNull, &delim, &info.EnumLabels)
	if err != nil {
		if err == pgx.ErrNoRows {
			return nil, fmt.Errorf("look up type oid %d in pg_type: no such type", oid)
		}
		return nil, fmt.Errorf("look up type oid %d in pg_type: %w", oid, err)
	}
	info.Kind, info.Category, info.Delim = firstByte(kind), firstByte(category), firstByte(delim)
	r.mu.Lock()
	r.cache[oid] = &info
	r.mu.Unlock()
	return &info, nil
}

// Forget drops oid from the cache, so the next lookup reads the catalog
// again; call it when a type may have changed (ALTER TYPE … ADD VALUE).
func (r *TypeResolver) Forget(oid uint32) {
	r.mu.Lock()
	delete(r.cache, oid)
	r.mu.Unlock()
}

func firstByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}
