package disco

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestConsul_KV runs the Consul client against a fake of the KV API that
// checks the token, datacenter and check-and-set handling.
func TestConsul_KV(t *testing.T) {
	var (
		mu  sync.Mutex
		val []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/kv/k1/leader" || r.Header.Get("X-Consul-Token") != "tok" || r.URL.Query().Get("dc") != "dc1" {
			http.Error(w, "bad request "+r.URL.String(), http.StatusForbidden)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			if val == nil {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			json.NewEncoder(w).Encode([]map[string]string{{"Key": "k1/leader", "Value": base64.StdEncoding.EncodeToString(val)}})
		case http.MethodPut:
			b, _ := io.ReadAll(r.Body)
			if r.URL.Query().Get("cas") == "0" && val != nil {
				io.WriteString(w, "false")
				return
			}
			val = b
			io.WriteString(w, "true")
		}
	}))
	defer srv.Close()
	cfg, err := ParseConsulConfig([]byte(`{"address":"`+strings.TrimPrefix(srv.URL, "http://")+`","datacenter":"dc1","token":"tok"}`), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConsul(cfg, "k1")
	if err != nil {
		t.Fatal(err)
	}
	testKV(t, c)
}

// TestEtcd_KV runs the etcd client against a fake of the v3 JSON gateway
// that requires a login, and whose first endpoint is down.
func TestEtcd_KV(t *testing.T) {
	var (
		mu   sync.Mutex
		vals = map[string][]byte{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/v3/auth/authenticate" {
			json.NewEncoder(w).Encode(map[string]string{"token": "T"})
			return
		}
		if r.Header.Get("Authorization") != "T" {
			http.Error(w, `{"error":"invalid auth token"}`, http.StatusUnauthorized)
			return
		}
		var req struct {
			Key     []byte `json:"key"`
			Value   []byte `json:"value"`
			Compare []struct {
				Key     []byte `json:"key"`
				Target  string `json:"target"`
				Version string `json:"version"`
			} `json:"compare"`
			Success []struct {
				Put struct {
					Key   []byte `json:"key"`
					Value []byte `json:"value"`
				} `json:"request_put"`
			} `json:"success"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/v3/kv/range":
			if v, ok := vals[string(req.Key)]; ok {
				json.NewEncoder(w).Encode(map[string]any{"kvs": []map[string][]byte{{"key": req.Key, "value": v}}, "count": "1"})
				return
			}
			io.WriteString(w, `{"header":{}}`)
		case "/v3/kv/put":
			vals[string(req.Key)] = req.Value
			io.WriteString(w, `{"header":{}}`)
		case "/v3/kv/txn":
			c := req.Compare[0]
			if _, exists := vals[string(c.Key)]; exists || c.Target != "VERSION" || c.Version != "0" {
				io.WriteString(w, `{"header":{}}`) // succeeded omitted when false
				return
			}
			p := req.Success[0].Put
			vals[string(p.Key)] = p.Value
			io.WriteString(w, `{"header":{},"succeeded":true}`)
		}
	}))
	defer srv.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	cfg, err := ParseEtcdConfig([]byte(`{"endpoints":["` + down.URL + `","` + strings.TrimPrefix(srv.URL, "http://") + `"],"username":"u","password":"p"}`))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEtcd(cfg, "k1")
	if err != nil {
		t.Fatal(err)
	}
	testKV(t, e)
	mu.Lock()
	defer mu.Unlock()
	if _, ok := vals["/k1/leader"]; !ok {
		t.Errorf("record not under /k1/leader: %v", vals)
	}
}

// testKV checks a KV: absent, create-only once, overwrite.
func testKV(t *testing.T, kv KV) {
	t.Helper()
	ctx := context.Background()
	if _, ok, err := kv.GetLeader(ctx); ok || err != nil {
		t.Fatalf("empty store: ok %v, err %v", ok, err)
	}
	r1 := LeaderRecord{ID: "n1", APIAddr: "http://h1:4001", Addr: "h1:4002"}
	if won, err := kv.InitializeLeader(ctx, r1); !won || err != nil {
		t.Fatalf("first InitializeLeader: %v %v", won, err)
	}
	if won, err := kv.InitializeLeader(ctx, LeaderRecord{ID: "n2"}); won || err != nil {
		t.Fatalf("second InitializeLeader: %v %v, want false", won, err)
	}
	if got, ok, err := kv.GetLeader(ctx); !ok || err != nil || got != r1 {
		t.Fatalf("GetLeader = %+v %v %v, want %+v", got, ok, err, r1)
	}
	r2 := LeaderRecord{ID: "n2", Addr: "h2:4002"}
	if err := kv.SetLeader(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if got, _, err := kv.GetLeader(ctx); err != nil || got != r2 {
		t.Fatalf("after SetLeader: %+v %v", got, err)
	}
}
