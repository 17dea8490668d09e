package loadgen

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseWorkloads(t *testing.T) {
	tests := []struct {
		list, level string
		want        []Workload
		wantErr     string
	}{
		{list: "write", level: "weak", want: []Workload{{Kind: KindWrite}}},
		{list: "read", level: "strong", want: []Workload{{Kind: KindRead, Level: "strong"}}},
		{list: "write, bulk,read-none,mixed-linearizable", level: "weak", want: []Workload{
			{Kind: KindWrite}, {Kind: KindBulk}, {Kind: KindRead, Level: "none"}, {Kind: KindMixed, Level: "linearizable"}}},
		{list: "all", level: "none", want: []Workload{{Kind: KindWrite}, {Kind: KindBulk},
			{Kind: KindRead, Level: "none"}, {Kind: KindRead, Level: "weak"}, {Kind: KindRead, Level: "linearizable"},
			{Kind: KindRead, Level: "strong"}, {Kind: KindMixed, Level: "none"}}},
		{list: "read", level: "eventual", wantErr: `level "eventual"`},
		{list: "write-none", level: "weak", wantErr: `unknown workload "write-none"`},
		{list: "delete", level: "weak", wantErr: `unknown workload "delete"`},
		{list: " , ", level: "weak", wantErr: "no workload"},
	}
	for _, tt := range tests {
		t.Run(tt.list, func(t *testing.T) {
			got, err := ParseWorkloads(tt.list, tt.level)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestWorkload_Name(t *testing.T) {
	for w, want := range map[Workload]string{
		{Kind: KindWrite}: "write", {Kind: KindBulk}: "bulk",
		{Kind: KindRead, Level: "none"}: "read-none", {Kind: KindMixed, Level: "weak"}: "mixed-weak",
	} {
		if got := w.Name(); got != want {
			t.Errorf("Name() = %q, want %q", got, want)
		}
	}
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{"default", func(*Config) {}, ""},
		{"https", func(c *Config) { c.URLs = []string{"https://a:4001", "http://b:4001"} }, ""},
		{"no URL", func(c *Config) { c.URLs = nil }, "no URL"},
		{"no scheme", func(c *Config) { c.URLs = []string{"ftp://a"} }, "want http://host:port"},
		{"no workload", func(c *Config) { c.Workloads = nil }, "no workload"},
		{"bad level", func(c *Config) { c.Workloads = []Workload{{Kind: KindRead, Level: "x"}} }, "level"},
		{"concurrency", func(c *Config) { c.Concurrency = 0 }, "concurrency"},
		{"requests", func(c *Config) { c.Requests = MaxRequests + 1 }, "requests"},
		{"duration", func(c *Config) { c.Duration = 0 }, "duration"},
		{"timeout", func(c *Config) { c.Timeout = 0 }, "timeout"},
		{"batch", func(c *Config) { c.Batch = 0 }, "batch"},
		{"rows", func(c *Config) { c.Rows = 0 }, "rows"},
		{"ratio", func(c *Config) { c.ReadRatio = 1.5 }, "read ratio"},
		{"table", func(c *Config) { c.Table = "t; DROP TABLE x" }, "table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mod(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
