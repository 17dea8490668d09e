package store

import (
	"context"

	"github.com/rdb/rdb/db"
)

// database is what the store needs from package db: *db.DB (through
// sqliteDB) in production; tests of the Raft logic may use a fake.
type database interface {
	CheckRequest(req *db.Request) error
	ApplyBatch(ctx context.Context, entries []db.Entry) ([][][]db.Result, error)
	Applied(ctx context.Context) (db.Applied, error)
	SetApplied(ctx context.Context, at db.Applied) error
	Query(ctx context.Context, req *db.Request) ([]db.Result, error)
	ReadOnly(ctx context.Context, stmts []db.Statement) (bool, error)
	Ping(ctx context.Context) error
	CopyTo(ctx context.Context, path string) error
	Restore(path string) error
	Checkpoint(ctx context.Context) error
	WALSize() (int64, error)
	Stats() (map[string]any, error)
	Close() error
}

// sqliteDB is a *db.DB with db.CheckRequest as a method.
type sqliteDB struct{ *db.DB }

func (sqliteDB) CheckRequest(req *db.Request) error { return db.CheckRequest(req) }

func openSQLite(cfg db.Config) (database, error) {
	d, err := db.Open(cfg)
	if err != nil {
		return nil, err
	}
	return sqliteDB{d}, nil
}
