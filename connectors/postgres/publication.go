package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sluice-cdc/sluice/connectors"
)

// publicationOptions publish a partitioned table's changes as changes of
// the table itself, as its snapshot reads it, not of its partitions.
const publicationOptions = " WITH (publish_via_partition_root = true)"

// planPublication decides, before anything is changed, what makes the
// publication carry the captured tables, and returns that statement ("" when
// nothing needs to run). It fails, naming the statements an administrator
// can run, when the role may not do what publication.autocreate.mode asks.
//
// The rule, whatever the mode: an existing publication that already
// publishes every captured table is used as it is (no ALTER, so the role
// needs no ownership of it), except that in filtered mode a publication the
// role owns is kept equal to the captured tables. A missing publication is
// created FOR ALL TABLES (all_tables: superuser only) or for the captured
// tables (filtered: CREATE on the database and ownership of the tables), or
// refused (disabled).
func (s *Source) planPublication(ctx context.Context, conn *pgx.Conn, tables []capturedTable, superuser bool) (string, error) {
	var allTables, ownsPub bool
	err := conn.QueryRow(ctx, `SELECT puballtables, pg_has_role(pubowner, 'USAGE') FROM pg_publication WHERE pubname = $1`, s.cfg.Publication).
		Scan(&allTables, &ownsPub)
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("look up publication %q: %w", s.cfg.Publication, err)
	}
	mode := s.cfg.PublicationCreate
	if mode == "filtered" && len(tables) == 0 {
		return "", connectors.Permanent(fmt.Errorf("no table matches the filters, so publication %q would be empty: check table.include.list and schema.include.list", s.cfg.Publication))
	}
	if !exists {
		return s.planCreate(ctx, conn, tables, superuser)
	}
	if allTables {
		return "", nil
	}
	published, extra, err := s.publishedTables(ctx, conn, tables)
	if err != nil {
		return "", err
	}
	var missing []capturedTable
	for _, t := range tables {
		if !published[t.String()] {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 && (mode != "filtered" || !extra || !ownsPub) {
		return "", nil // used as it is
	}
	var reasons []string
	if mode != "filtered" {
		reasons = append(reasons, fmt.Sprintf("publication.autocreate.mode=%s does not change an existing publication", mode))
	} else {
		if !ownsPub {
			reasons = append(reasons, fmt.Sprintf("role %q does not own the publication", s.cfg.User))
		}
		notOwned, err := s.notOwned(ctx, conn, tables) // SET TABLE checks every table it lists
		if err != nil {
			return "", err
		}
		if len(notOwned) > 0 {
			reasons = append(reasons, fmt.Sprintf("role %q does not own %s (only a table's owner may add it to a publication)", s.cfg.User, tableList(notOwned)))
		}
	}
	if len(reasons) == 0 {
		return "ALTER PUBLICATION " + pgx.Identifier{s.cfg.Publication}.Sanitize() + " SET TABLE " + sqlNames(tables), nil
	}
	return "", connectors.Permanent(fmt.Errorf("publication %q does not publish %s, which the filters capture, and sluice may not add %s: %s. Have the publication's owner run: ALTER PUBLICATION %s ADD TABLE %s",
		s.cfg.Publication, tableList(missing), itOrThem(missing), strings.Join(reasons, "; "), pgx.Identifier{s.cfg.Publication}.Sanitize(), sqlNames(missing)))
}

// planCreate is planPublication for a publication that does not exist.
func (s *Source) planCreate(ctx context.Context, conn *pgx.Conn, tables []capturedTable, superuser bool) (string, error) {
	pub := pgx.Identifier{s.cfg.Publication}.Sanitize()
	create := "CREATE PUBLICATION " + pub + " FOR ALL TABLES" + publicationOptions
	if len(tables) > 0 {
		create = "CREATE PUBLICATION " + pub + " FOR TABLE " + sqlNames(tables) + publicationOptions
	}
	role := pgx.Identifier{s.cfg.User}.Sanitize()
	switch s.cfg.PublicationCreate {
	case "disabled":
		return "", connectors.Permanent(fmt.Errorf("publication %q does not exist and publication.autocreate.mode is disabled: have an owner of the tables or a superuser run %s, or set publication.autocreate.mode", s.cfg.Publication, create))
	case "all_tables":
		if superuser {
			return "CREATE PUBLICATION " + pub + " FOR ALL TABLES" + publicationOptions, nil
		}
		return "", connectors.Permanent(fmt.Errorf("publication %q does not exist and publication.autocreate.mode=all_tables would create it FOR ALL TABLES, which only a superuser may do, and role %q is not one: set publication.autocreate.mode=filtered, or have an owner of the tables or a superuser run %s (an existing publication that publishes the captured tables is used as it is)", s.cfg.Publication, s.cfg.User, create))
	}
	var reasons []string
	var canCreate bool
	if err := conn.QueryRow(ctx, "SELECT has_database_privilege(current_database(), 'CREATE')").Scan(&canCreate); err != nil {
		return "", fmt.Errorf("check CREATE on database %q: %w", s.cfg.DBName, err)
	}
	if !canCreate {
		reasons = append(reasons, fmt.Sprintf("it lacks CREATE on database %q (GRANT CREATE ON DATABASE %s TO %s)", s.cfg.DBName, pgx.Identifier{s.cfg.DBName}.Sanitize(), role))
	}
	notOwned, err := s.notOwned(ctx, conn, tables)
	if err != nil {
		return "", err
	}
	if len(notOwned) > 0 {
		reasons = append(reasons, fmt.Sprintf("it does not own %s (only a table's owner may add it to a publication)", tableList(notOwned)))
	}
	if len(reasons) == 0 {
		return create, nil
	}
	return "", connectors.Permanent(fmt.Errorf("publication %q does not exist and role %q may not create it for publication.autocreate.mode=filtered: %s. Have an owner of the tables or a superuser run %s (an existing publication that publishes the captured tables is used as it is)",
		s.cfg.Publication, s.cfg.User, strings.Join(reasons, "; "), create))
}

// publishedTables returns which captured tables the publication publishes,
// and whether it publishes other tables too.
func (s *Source) publishedTables(ctx context.Context, conn *pgx.Conn, tables []capturedTable) (map[string]bool, bool, error) {
	rows, err := conn.Query(ctx, "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1", s.cfg.Publication)
	if err != nil {
		return nil, false, fmt.Errorf("list the tables of publication %q: %w", s.cfg.Publication, err)
	}
	names, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var schema, name string
		err := r.Scan(&schema, &name)
		return capturedTable{Schema: schema, Name: name}.String(), err
	})
	if err != nil {
		return nil, false, fmt.Errorf("list the tables of publication %q: %w", s.cfg.Publication, err)
	}
	captured := map[string]bool{}
	for _, t := range tables {
		captured[t.String()] = true
	}
	published, extra := map[string]bool{}, false
	for _, n := range names {
		published[n] = true
		extra = extra || !captured[n]
	}
	return published, extra, nil
}

// notOwned returns the tables the role neither owns nor inherits the
// owner's rights of (a superuser owns them all).
func (s *Source) notOwned(ctx context.Context, conn *pgx.Conn, tables []capturedTable) ([]capturedTable, error) {
	var out []capturedTable
	for _, t := range tables {
		var owns bool
		if err := conn.QueryRow(ctx, "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = $1", t.OID).Scan(&owns); err != nil {
			return nil, fmt.Errorf("check the owner of %s: %w", t, err)
		}
		if !owns {
			out = append(out, t)
		}
	}
	return out, nil
}

// ensurePublication runs the statement planPublication returned, if any.
func (s *Source) ensurePublication(ctx context.Context, conn *pgx.Conn, sql string) error {
	if sql == "" {
		s.logger.Info("publication used as it is", "publication", s.cfg.Publication)
		return nil
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	s.logger.Info("publication ready", "publication", s.cfg.Publication, "mode", s.cfg.PublicationCreate)
	return nil
}

// sqlNames is tables as a list of quoted names for a statement.
func sqlNames(tables []capturedTable) string {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = pgx.Identifier{t.Schema, t.Name}.Sanitize()
	}
	return strings.Join(names, ", ")
}

// tableList is tables as a list for a message.
func tableList(tables []capturedTable) string {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.String()
	}
	return strings.Join(names, ", ")
}

func itOrThem(tables []capturedTable) string {
	if len(tables) == 1 {
		return "it"
	}
	return "them"
}
