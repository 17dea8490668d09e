package backup

import (
	"expvar"
	"sync"
)

// Counters in the expvar map "uploader" (OPS.md §2.2; the first four are
// what rqlite's end-to-end tests poll).
const (
	numUploadsOK        = "num_uploads_ok"
	numUploadsFail      = "num_uploads_fail"
	numUploadsSkipped   = "num_uploads_skipped"
	numUploadsSkippedID = "num_uploads_skipped_id"
	numSumGetFail       = "num_sum_get_fail"
	totalUploadBytes    = "total_upload_bytes"
	lastUploadBytes     = "last_upload_bytes"
)

// Counters in the expvar map "downloader" (OPS.md §2.4).
const (
	numDownloadsOK   = "num_downloads_ok"
	numDownloadsFail = "num_downloads_fail"
	downloadBytes    = "download_bytes"
)

// uploaderStats and downloaderStats are published once per process (a
// test binary runs many nodes; expvar panics on a second Publish), with
// every counter at zero.
var (
	uploaderStats = sync.OnceValue(func() *expvar.Map {
		return newMap("uploader", numUploadsOK, numUploadsFail, numUploadsSkipped,
			numUploadsSkippedID, numSumGetFail, totalUploadBytes, lastUploadBytes)
	})
	downloaderStats = sync.OnceValue(func() *expvar.Map {
		return newMap("downloader", numDownloadsOK, numDownloadsFail, downloadBytes)
	})
)

func newMap(name string, keys ...string) *expvar.Map {
	m := expvar.NewMap(name)
	for _, k := range keys {
		m.Add(k, 0)
	}
	return m
}

// PublishStats registers the "uploader" and "downloader" maps at zero, so
// /debug/vars shows them even on a node without backups.
func PublishStats() {
	uploaderStats()
	downloaderStats()
}
