// Package backup runs rdb's automatic backups and restores (OPS.md §2):
// the -auto-backup and -auto-restore configuration files, the upload cycle
// (leader only, only when the database changed since the last upload,
// skipping an upload the storage already holds), and the storage clients
// for a local directory, S3 and Google Cloud Storage.
//
// It knows nothing of Raft or SQLite: the node hands it a Provider (is
// this node the leader, which entry last changed the database, write a
// backup) and, for restores, receives a downloaded SQLite file to load.
// It never exits the process; start-up errors are returned.
package backup
