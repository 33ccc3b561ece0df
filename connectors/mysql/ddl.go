package mysql

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	pmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/types"

	// The parser needs a driver to build literal values (defaults, comments).
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/sluice-cdc/sluice/schema/event"
)

// errUnsupportedDDL marks a DDL statement that the schema history cannot
// apply: the parser does not read it, or it changes tables in a way this
// connector does not follow (CREATE TABLE … SELECT, for example).
var errUnsupportedDDL = errors.New("DDL statement not supported by the schema history")

// The kinds of tableChange, as Debezium names them.
const (
	changeCreate = "CREATE"
	changeAlter  = "ALTER"
	changeDrop   = "DROP"
)

// tableChange is what one DDL statement did to one table: its definition
// afterwards (nil when dropped).
type tableChange struct {
	Kind string
	ID   event.TableID
	Def  *tableDef
}

// ddlApplier applies DDL statements, parsed with the TiDB parser, to table
// definitions. It is used by the stream's goroutine only.
type ddlApplier struct {
	p *parser.Parser
	// lookup returns the current definition of a table, nil if unknown.
	lookup func(event.TableID) *tableDef
	// charset returns a database's default character set ("" if unknown).
	charset func(db string) string
	// tracked lists the tables of a database with a definition.
	tracked func(db string) []event.TableID
	// captured reports whether a table is captured: statements about other
	// tables are not followed.
	captured func(event.TableID) bool
}

// isTableDDL reports whether a statement the parser cannot read may change
// a table's columns, so that it cannot be ignored.
func isTableDDL(sql string) bool {
	f := strings.Fields(strings.ToUpper(stripComments(sql)))
	if len(f) < 2 {
		return false
	}
	switch f[0] {
	case "ALTER", "CREATE", "DROP", "RENAME":
	default:
		return false
	}
	for _, w := range f[1:min(len(f), 5)] {
		switch w {
		case "TABLE", "TABLES", "DATABASE", "SCHEMA":
			return true
		case "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", "USER", "ROLE", "INDEX", "SEQUENCE", "SERVER", "TABLESPACE", "LOGFILE":
			return false
		}
	}
	return false
}

// stripComments drops leading /* … */ comments.
func stripComments(sql string) string {
	s := strings.TrimSpace(sql)
	for strings.HasPrefix(s, "/*") {
		end := strings.Index(s, "*/")
		if end < 0 {
			return s
		}
		s = strings.TrimSpace(s[end+2:])
	}
	return s
}

// truncated returns the captured tables sql truncates, run with db as the
// default database (TRUNCATE [TABLE] t): a truncate is no schema change,
// but a change of the table's rows.
func (a *ddlApplier) truncated(sql, db string) []event.TableID {
	stmts, _, err := a.p.Parse(sql, "", "")
	if err != nil {
		return nil
	}
	var out []event.TableID
	for _, stmt := range stmts {
		if s, ok := stmt.(*ast.TruncateTableStmt); ok {
			if id := tableID(s.Table, db); a.captured(id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// apply parses sql, run with db as the default database, and returns what
// it does to tables, in order. Statements that change no table give
// nothing; a table statement that cannot be applied is errUnsupportedDDL.
// Only captured tables are followed: the changes name captured tables;
// dbCharsets receives the default character sets CREATE and ALTER DATABASE
// set.
func (a *ddlApplier) apply(sql, db string, dbCharsets map[string]string) ([]tableChange, error) {
	stmts, _, err := a.p.Parse(sql, "", "")
	if err != nil {
		if !isTableDDL(sql) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %v", errUnsupportedDDL, firstLine(err.Error()))
	}
	var out []tableChange
	// Later statements of the same query see the changes of earlier ones.
	pending := map[event.TableID]*tableDef{}
	dropped := map[event.TableID]bool{}
	lookup := func(id event.TableID) *tableDef {
		if d, ok := pending[id]; ok {
			return d
		}
		if dropped[id] {
			return nil
		}
		return a.lookup(id)
	}
	record := func(c tableChange) {
		out = append(out, c)
		if c.Def == nil {
			dropped[c.ID], pending[c.ID] = true, nil
			delete(pending, c.ID)
		} else {
			pending[c.ID] = c.Def
			delete(dropped, c.ID)
		}
	}
	for _, stmt := range stmts {
		switch s := stmt.(type) {
		case *ast.CreateTableStmt:
			if s.TemporaryKeyword != ast.TemporaryNone {
				continue
			}
			id := tableID(s.Table, db)
			if !a.captured(id) || s.IfNotExists && lookup(id) != nil {
				continue
			}
			var def *tableDef
			switch {
			case s.ReferTable != nil:
				ref := tableID(s.ReferTable, db)
				if def = lookup(ref); def == nil {
					return nil, fmt.Errorf("%w: CREATE TABLE %s LIKE %s, whose definition the history does not have", errUnsupportedDDL, id, ref)
				}
				def = def.clone()
			case s.Select != nil:
				return nil, fmt.Errorf("%w: CREATE TABLE %s … SELECT", errUnsupportedDDL, id)
			default:
				charset := a.charset(id.Database)
				if cs := tableCharset(s.Options); cs != "" {
					charset = cs
				}
				def = &tableDef{Charset: charset}
				for _, o := range s.Options {
					if o.Tp == ast.TableOptionComment {
						def.Comment = o.StrValue
					}
				}
				for _, cd := range s.Cols {
					c, pk := columnFromAST(cd, charset)
					if pk {
						def.Key = []string{c.Name}
					}
					def.Columns = append(def.Columns, c)
				}
				for _, k := range s.Constraints {
					if k.Tp == ast.ConstraintPrimaryKey {
						if err := setPrimaryKey(def, k); err != nil {
							return nil, fmt.Errorf("%w: CREATE TABLE %s: %v", errUnsupportedDDL, id, err)
						}
					}
				}
			}
			record(tableChange{Kind: changeCreate, ID: id, Def: def})
		case *ast.AlterTableStmt:
			id := tableID(s.Table, db)
			def := lookup(id)
			if def == nil {
				if !a.captured(id) {
					if newID := renamedTo(s, db); newID != nil && a.captured(*newID) {
						return nil, fmt.Errorf("%w: ALTER TABLE %s RENAME TO %s, a captured name, but the history has no definition of %s", errUnsupportedDDL, id, *newID, id)
					}
					continue
				}
				return nil, fmt.Errorf("%w: ALTER TABLE %s, whose definition the history does not have", errUnsupportedDDL, id)
			}
			def = def.clone()
			newID := id
			for _, spec := range s.Specs {
				if spec.Tp == ast.AlterTableRenameTable {
					newID = tableID(spec.NewTable, db)
					continue
				}
				if err := alterTable(def, spec); err != nil {
					return nil, fmt.Errorf("%w: ALTER TABLE %s: %v", errUnsupportedDDL, id, err)
				}
			}
			if newID != id {
				record(tableChange{Kind: changeDrop, ID: id})
				if a.captured(newID) {
					record(tableChange{Kind: changeCreate, ID: newID, Def: def})
				}
			} else {
				record(tableChange{Kind: changeAlter, ID: id, Def: def})
			}
		case *ast.RenameTableStmt:
			for _, tt := range s.TableToTables {
				from, to := tableID(tt.OldTable, db), tableID(tt.NewTable, db)
				def := lookup(from)
				if def == nil {
					if !a.captured(to) {
						continue
					}
					return nil, fmt.Errorf("%w: RENAME TABLE %s TO %s, a captured name, but the history has no definition of %s", errUnsupportedDDL, from, to, from)
				}
				record(tableChange{Kind: changeDrop, ID: from})
				if a.captured(to) {
					record(tableChange{Kind: changeCreate, ID: to, Def: def})
				}
			}
		case *ast.DropTableStmt:
			if s.IsView || s.TemporaryKeyword != ast.TemporaryNone {
				continue
			}
			for _, t := range s.Tables {
				if id := tableID(t, db); lookup(id) != nil {
					record(tableChange{Kind: changeDrop, ID: id})
				}
			}
		case *ast.DropDatabaseStmt:
			for _, id := range a.tracked(s.Name.O) {
				record(tableChange{Kind: changeDrop, ID: id})
			}
		case *ast.CreateDatabaseStmt:
			for _, o := range s.Options {
				if cs := databaseCharset(o); cs != "" {
					dbCharsets[s.Name.O] = cs
				}
			}
		case *ast.AlterDatabaseStmt:
			name := s.Name.O
			if name == "" {
				name = db
			}
			for _, o := range s.Options {
				if cs := databaseCharset(o); cs != "" {
					dbCharsets[name] = cs
				}
			}
		}
	}
	return out, nil
}

// renamedTo is the new name an ALTER TABLE … RENAME gives, if any.
func renamedTo(s *ast.AlterTableStmt, db string) *event.TableID {
	for _, spec := range s.Specs {
		if spec.Tp == ast.AlterTableRenameTable {
			id := tableID(spec.NewTable, db)
			return &id
		}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func tableID(t *ast.TableName, db string) event.TableID {
	if t.Schema.O != "" {
		db = t.Schema.O
	}
	return event.TableID{Database: db, Table: t.Name.O}
}

// charsetOfCollation is the character set a collation name belongs to.
func charsetOfCollation(collation string) string {
	cs, _, _ := strings.Cut(collation, "_")
	return strings.ToLower(cs)
}

func normCharset(cs string) string {
	cs = strings.ToLower(cs)
	if cs == "utf8" {
		return "utf8mb3"
	}
	return cs
}

func tableCharset(opts []*ast.TableOption) string {
	var cs string
	for _, o := range opts {
		switch o.Tp {
		case ast.TableOptionCharset:
			cs = normCharset(o.StrValue)
		case ast.TableOptionCollate:
			if cs == "" {
				cs = charsetOfCollation(o.StrValue)
			}
		}
	}
	return cs
}

func databaseCharset(o *ast.DatabaseOption) string {
	switch o.Tp {
	case ast.DatabaseOptionCharset:
		return normCharset(o.Value)
	case ast.DatabaseOptionCollate:
		return charsetOfCollation(o.Value)
	}
	return ""
}

// columnFromAST builds a column definition; pk reports a PRIMARY KEY
// column option.
func columnFromAST(cd *ast.ColumnDef, tableCharset string) (c colDef, pk bool) {
	ft := cd.Tp
	c = colDef{Name: cd.Name.Name.O, DataType: strings.ToLower(types.TypeToStr(ft.GetType(), ft.GetCharset())),
		Length: ft.GetFlen(), Scale: ft.GetDecimal(), Unsigned: pmysql.HasUnsignedFlag(ft.GetFlag()), Nullable: true}
	switch c.DataType {
	case "enum", "set":
		c.Members = slices.Clone(ft.GetElems())
	case "double", "float", "decimal":
	case "datetime", "timestamp", "time":
		c.Length, c.Scale = -1, max(c.Scale, 0)
	default:
		if c.Scale <= 0 {
			c.Scale = -1
		}
	}
	if c.Length < 0 {
		c.Length = -1
	}
	character := isCharacterType(c.DataType)
	if character {
		switch {
		case ft.GetCharset() != "":
			c.Charset = normCharset(ft.GetCharset())
		case ft.GetCollate() != "":
			c.Charset = charsetOfCollation(ft.GetCollate())
		default:
			c.Charset = tableCharset
		}
	}
	for _, o := range cd.Options {
		switch o.Tp {
		case ast.ColumnOptionNotNull:
			c.Nullable = false
		case ast.ColumnOptionNull:
			c.Nullable = true
		case ast.ColumnOptionPrimaryKey:
			c.Nullable, pk = false, true
		case ast.ColumnOptionAutoIncrement:
			c.AutoIncrement = true
		case ast.ColumnOptionDefaultValue:
			if v, ok := o.Expr.(ast.ValueExpr); ok && v.GetValue() == nil {
				c.Default = nil
				continue
			}
			s := restore(o.Expr)
			c.Default = &s
		case ast.ColumnOptionComment:
			if v, ok := o.Expr.(ast.ValueExpr); ok {
				c.Comment = v.GetString()
			}
		case ast.ColumnOptionGenerated:
			c.Generated = true
		case ast.ColumnOptionCollate:
			if character && o.StrValue != "" {
				c.Charset = charsetOfCollation(o.StrValue)
			}
		}
	}
	return c, pk
}

func isCharacterType(dataType string) bool {
	switch dataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		return true
	}
	return false
}

func restore(n ast.Node) string {
	var b strings.Builder
	if err := n.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags|format.RestoreStringWithoutCharset, &b)); err != nil {
		return ""
	}
	return b.String()
}

func setPrimaryKey(def *tableDef, k *ast.Constraint) error {
	var key []string
	for _, part := range k.Keys {
		if part.Column == nil {
			return fmt.Errorf("a primary key on an expression")
		}
		i := def.column(part.Column.Name.O)
		if i < 0 {
			return fmt.Errorf("primary key column %s does not exist", part.Column.Name.O)
		}
		def.Columns[i].Nullable = false
		key = append(key, def.Columns[i].Name)
	}
	def.Key = key
	return nil
}

// alterTable applies one ALTER TABLE clause to def (a copy).
func alterTable(def *tableDef, spec *ast.AlterTableSpec) error {
	switch spec.Tp {
	case ast.AlterTableAddColumns:
		for i, cd := range spec.NewColumns {
			c, pk := columnFromAST(cd, def.Charset)
			if def.column(c.Name) >= 0 {
				if spec.IfNotExists {
					continue
				}
				return fmt.Errorf("column %s already exists", c.Name)
			}
			pos := len(def.Columns)
			if i == 0 && spec.Position != nil {
				var err error
				if pos, err = position(def, spec.Position, pos); err != nil {
					return err
				}
			}
			def.Columns = slices.Insert(def.Columns, pos, c)
			if pk {
				def.Key = []string{c.Name}
			}
		}
		for _, k := range spec.NewConstraints {
			if k.Tp == ast.ConstraintPrimaryKey {
				if err := setPrimaryKey(def, k); err != nil {
					return err
				}
			}
		}
	case ast.AlterTableDropColumn:
		name := spec.OldColumnName.Name.O
		i := def.column(name)
		if i < 0 {
			if spec.IfExists {
				return nil
			}
			return fmt.Errorf("column %s does not exist", name)
		}
		def.Key = slices.DeleteFunc(def.Key, func(k string) bool { return strings.EqualFold(k, def.Columns[i].Name) })
		if len(def.Key) == 0 {
			def.Key = nil
		}
		def.Columns = slices.Delete(def.Columns, i, i+1)
	case ast.AlterTableModifyColumn, ast.AlterTableChangeColumn:
		old := spec.NewColumns[0].Name.Name.O
		if spec.Tp == ast.AlterTableChangeColumn {
			old = spec.OldColumnName.Name.O
		}
		i := def.column(old)
		if i < 0 {
			if spec.IfExists {
				return nil
			}
			return fmt.Errorf("column %s does not exist", old)
		}
		c, pk := columnFromAST(spec.NewColumns[0], def.Charset)
		oldName := def.Columns[i].Name
		if slices.Contains(def.Key, oldName) {
			c.Nullable = false
		}
		def.Columns = slices.Delete(def.Columns, i, i+1)
		pos := i
		if spec.Position != nil && spec.Position.Tp != ast.ColumnPositionNone {
			var err error
			if pos, err = position(def, spec.Position, i); err != nil {
				return err
			}
		}
		def.Columns = slices.Insert(def.Columns, pos, c)
		renameKey(def, oldName, c.Name)
		if pk {
			def.Key = []string{c.Name}
		}
	case ast.AlterTableRenameColumn:
		old, neu := spec.OldColumnName.Name.O, spec.NewColumnName.Name.O
		i := def.column(old)
		if i < 0 {
			return fmt.Errorf("column %s does not exist", old)
		}
		renameKey(def, def.Columns[i].Name, neu)
		def.Columns[i].Name = neu
	case ast.AlterTableAlterColumn:
		cd := spec.NewColumns[0]
		i := def.column(cd.Name.Name.O)
		if i < 0 {
			return fmt.Errorf("column %s does not exist", cd.Name.Name.O)
		}
		def.Columns[i].Default = nil
		for _, o := range cd.Options {
			if o.Tp == ast.ColumnOptionDefaultValue && o.Expr != nil {
				s := restore(o.Expr)
				def.Columns[i].Default = &s
			}
		}
	case ast.AlterTableAddConstraint:
		if spec.Constraint != nil && spec.Constraint.Tp == ast.ConstraintPrimaryKey {
			return setPrimaryKey(def, spec.Constraint)
		}
	case ast.AlterTableDropPrimaryKey:
		def.Key = nil
	case ast.AlterTableOption:
		for _, o := range spec.Options {
			switch o.Tp {
			case ast.TableOptionCharset, ast.TableOptionCollate:
				cs := normCharset(o.StrValue)
				if o.Tp == ast.TableOptionCollate {
					cs = charsetOfCollation(o.StrValue)
				}
				if cs == "" {
					continue
				}
				def.Charset = cs
				if o.UintValue == ast.TableOptionCharsetWithConvertTo {
					for j := range def.Columns {
						if isCharacterType(def.Columns[j].DataType) {
							def.Columns[j].Charset = cs
						}
					}
				}
			case ast.TableOptionComment:
				def.Comment = o.StrValue
			}
		}
	case ast.AlterTableDropIndex, ast.AlterTableDropForeignKey, ast.AlterTableLock, ast.AlterTableAlgorithm,
		ast.AlterTableRenameIndex, ast.AlterTableForce, ast.AlterTableEnableKeys, ast.AlterTableDisableKeys,
		ast.AlterTableAlterCheck, ast.AlterTableDropCheck, ast.AlterTableIndexInvisible, ast.AlterTableOrderByColumns,
		ast.AlterTableWithValidation, ast.AlterTableWithoutValidation, ast.AlterTableAddPartitions,
		ast.AlterTableCoalescePartitions, ast.AlterTableDropPartition, ast.AlterTableTruncatePartition,
		ast.AlterTablePartition, ast.AlterTableRemovePartitioning, ast.AlterTableRebuildPartition,
		ast.AlterTableReorganizePartition, ast.AlterTableCheckPartitions, ast.AlterTableExchangePartition,
		ast.AlterTableOptimizePartition, ast.AlterTableRepairPartition:
		// No column changes.
	default:
		return fmt.Errorf("clause %s is not supported", firstLine(restore(spec)))
	}
	return nil
}

func renameKey(def *tableDef, old, neu string) {
	for k, name := range def.Key {
		if strings.EqualFold(name, old) {
			def.Key[k] = neu
		}
	}
}

// position is the index FIRST or AFTER c puts a column at; def is without it.
func position(def *tableDef, p *ast.ColumnPosition, none int) (int, error) {
	switch p.Tp {
	case ast.ColumnPositionFirst:
		return 0, nil
	case ast.ColumnPositionAfter:
		i := def.column(p.RelativeColumn.Name.O)
		if i < 0 {
			return 0, fmt.Errorf("column %s of AFTER does not exist", p.RelativeColumn.Name.O)
		}
		return i + 1, nil
	}
	return none, nil
}
