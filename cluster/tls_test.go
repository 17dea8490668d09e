package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/mux"
	"github.com/rdb/rdb/internal/testcert"
)

// nodeTLS writes a CA and a node pair for 127.0.0.1 into a temp dir and
// returns a TLSConfig using them.
func nodeTLS(t *testing.T, ca *testcert.CA, caFile, cn string) TLSConfig {
	t.Helper()
	dir := t.TempDir()
	pair, err := ca.Issue(cn, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := pair.Write(dir, cn)
	if err != nil {
		t.Fatal(err)
	}
	return TLSConfig{CertFile: certFile, KeyFile: keyFile, CACertFile: caFile, VerifyClient: true}
}

func TestTLS_MutualRPC(t *testing.T) {
	ca, err := testcert.NewCA("cluster CA")
	if err != nil {
		t.Fatal(err)
	}
	rogueCA, err := testcert.NewCA("rogue CA")
	if err != nil {
		t.Fatal(err)
	}
	caFile, err := ca.WriteCert(t.TempDir(), "ca")
	if err != nil {
		t.Fatal(err)
	}
	rogueCAFile, err := rogueCA.WriteCert(t.TempDir(), "rogue-ca")
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, _, err := nodeTLS(t, ca, caFile, "server").Build()
	if err != nil {
		t.Fatal(err)
	}
	mc := mux.DefaultConfig()
	mc.TLS = serverTLS
	m := startMux(t, listen(t), mc)
	startServer(t, m, recordingHandler(&recorder[call]{}))
	addr := m.Addr().String()

	noVerify := nodeTLS(t, rogueCA, rogueCAFile, "rogue")
	noVerify.NoVerify = true
	tests := []struct {
		name    string
		tls     TLSConfig
		plain   bool
		wantErr bool
	}{
		{"trusted node", nodeTLS(t, ca, caFile, "client"), false, false},
		{"rogue node", nodeTLS(t, rogueCA, rogueCAFile, "rogue"), false, true},
		{"rogue node skipping verification", noVerify, false, true},
		{"no TLS", TLSConfig{}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := DefaultClientConfig()
			if !tt.plain {
				_, client, err := tt.tls.Build()
				if err != nil {
					t.Fatal(err)
				}
				cc.TLS = client
			}
			c, err := NewClient(cc)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = c.Meta(ctx, addr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Meta err = %v, wantErr %v", err, tt.wantErr)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("refused only by timeout: %v", err)
			}
		})
	}
}

func TestTLSConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		tc   TLSConfig
		ok   bool
	}{
		{"none", TLSConfig{}, true},
		{"no-verify alone is a no-op", TLSConfig{NoVerify: true}, true},
		{"pair", TLSConfig{CertFile: "c", KeyFile: "k"}, true},
		{"key only", TLSConfig{KeyFile: "k"}, false},
		{"verify with system roots", TLSConfig{CertFile: "c", KeyFile: "k", VerifyClient: true}, true},
		{"CN without verify", TLSConfig{CertFile: "c", KeyFile: "k", CACertFile: "a", VerifyCommonName: "x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.tc.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
