package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

// Why a workload ended.
const (
	StopRequests  = "requests"  // the request count was reached
	StopDuration  = "duration"  // the duration passed
	StopInterrupt = "interrupt" // the context was cancelled
)

// Result is what one workload measured.
type Result struct {
	Workload string `json:"workload"`
	Kind     string `json:"kind"`
	Level    string `json:"level,omitempty"`
	// Requests were sent; OK succeeded; Errors failed (HTTP, status, or an
	// error in the body).
	Requests     int      `json:"requests"`
	OK           int      `json:"ok"`
	Errors       int      `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	// Rows written or read by the successful requests.
	Rows      int64   `json:"rows"`
	ElapsedS  float64 `json:"elapsed_s"`
	StoppedBy string  `json:"stopped_by"`
	OpsPerS   float64 `json:"ops_per_s"`
	RowsPerS  float64 `json:"rows_per_s"`
	// LatencyMs is over the successful requests.
	LatencyMs Latency `json:"latency_ms"`
}

// Report is a whole run: its settings and one Result per workload run.
type Report struct {
	URLs         []string  `json:"urls"`
	Concurrency  int       `json:"concurrency"`
	MaxRequests  int       `json:"max_requests"`
	MaxDurationS float64   `json:"max_duration_s"`
	Batch        int       `json:"batch"`
	Rows         int       `json:"rows"`
	ReadRatio    float64   `json:"read_ratio"`
	Table        string    `json:"table"`
	Started      time.Time `json:"started"`
	Results      []Result  `json:"results"`
	Interrupted  bool      `json:"interrupted,omitempty"`
}

func newReport(cfg Config) *Report {
	r := &Report{
		Concurrency: cfg.Concurrency, MaxRequests: cfg.Requests, MaxDurationS: cfg.Duration.Seconds(),
		Batch: cfg.Batch, Rows: cfg.Rows, ReadRatio: cfg.ReadRatio, Table: cfg.Table,
		Started: time.Now().UTC().Truncate(time.Millisecond), Results: []Result{},
	}
	for _, s := range cfg.URLs {
		r.URLs = append(r.URLs, redact(s))
	}
	return r
}

// redact hides a password given in a URL.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Redacted()
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// WriteTable writes the settings, one table row per workload, and the
// error samples.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s: %d clients, each workload up to %d requests or %s; latency in ms\n\n",
		strings.Join(r.URLs, ", "), r.Concurrency, r.MaxRequests, time.Duration(r.MaxDurationS*float64(time.Second)))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	width := len("workload")
	for _, res := range r.Results {
		width = max(width, len(res.Workload))
	}
	// Cells are right-aligned; padding the first column left-aligns it.
	fmt.Fprintf(tw, "%-*s\tok\terrors\ttime\tops/s\trows/s\tmean\tp50\tp90\tp99\tmax\t\n", width, "workload")
	for _, res := range r.Results {
		l := res.LatencyMs
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%.2fs\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
			width, res.Workload, res.OK, res.Errors, res.ElapsedS, res.OpsPerS, res.RowsPerS,
			l.Mean, l.P50, l.P90, l.P99, l.Max)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	for _, res := range r.Results {
		for _, s := range res.ErrorSamples {
			fmt.Fprintf(w, "%s error: %s\n", res.Workload, s)
		}
	}
	if r.Interrupted {
		fmt.Fprintln(w, "interrupted: the last workload ran short")
	}
	return nil
}

// sampleSet keeps the first few distinct error messages.
type sampleSet struct {
	seen    map[string]bool
	samples []string
}

const maxSamples = 5

func (s *sampleSet) add(msg string) {
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	msg = strings.TrimSpace(msg)
	if len(s.samples) < maxSamples && !s.seen[msg] {
		s.seen[msg] = true
		s.samples = append(s.samples, msg)
	}
}
