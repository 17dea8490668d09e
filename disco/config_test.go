package disco

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestReadConfig_FileOrInline(t *testing.T) {
	p := filepath.Join(t.TempDir(), "disco.json")
	if err := os.WriteFile(p, []byte(`{"name":"$NAME"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := env(map[string]string{"NAME": "svc", "PORT": "4002"})
	tests := []struct{ name, value, want string }{
		{"file, expanded", p, `{"name":"svc"}`},
		{"inline, expanded", `{"name":"${NAME}","port":$PORT}`, `{"name":"svc","port":4002}`},
		{"unset variable is empty", `{"name":"$MISSING"}`, `{"name":""}`},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(ReadConfig(tt.value, e)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseDNSConfigs(t *testing.T) {
	c, err := ParseDNSConfig(nil)
	if err != nil || c.Name != "rqlite" || c.Port != 0 {
		t.Errorf("dns defaults: %+v, %v", c, err)
	}
	c, err = ParseDNSConfig([]byte(`{"name":"rqlite.cluster","port":4002,"unknown":1}`))
	if err != nil || c.Name != "rqlite.cluster" || c.Port != 4002 {
		t.Errorf("dns: %+v, %v", c, err)
	}
	if _, err := ParseDNSConfig([]byte(`{"port":70000}`)); err == nil {
		t.Error("port 70000 accepted")
	}
	if _, err := ParseDNSConfig([]byte(`{"name":`)); err == nil {
		t.Error("broken JSON accepted")
	}
	s, err := ParseDNSSRVConfig(nil)
	if err != nil || s.Name != "rqlite" || s.Service != "rqlite" {
		t.Errorf("dns-srv defaults: %+v, %v", s, err)
	}
}

func TestParseConsulConfig(t *testing.T) {
	if _, err := ParseConsulConfig([]byte(`{"address":"https://c:8500"}`), env(nil)); !errors.Is(err, ErrConsulAddressScheme) ||
		err.Error() != "address should not contain HTTP or HTTPS" {
		t.Errorf("address with scheme: %v", err)
	}
	c, err := ParseConsulConfig(nil, env(nil))
	if err != nil || c.Address != "127.0.0.1:8500" || c.Scheme != "http" {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	c, err = ParseConsulConfig(nil, env(map[string]string{"CONSUL_HTTP_ADDR": "https://consul:8501",
		"CONSUL_HTTP_TOKEN": "tok", "CONSUL_HTTP_AUTH": "u:p"}))
	if err != nil || c.Address != "consul:8501" || c.Scheme != "https" || c.Token != "tok" || c.BasicAuth == nil || c.BasicAuth.Password != "p" {
		t.Errorf("from env: %+v, %v", c, err)
	}
	c, err = ParseConsulConfig([]byte(`{"address":"localhost:8500","token":"mine"}`), env(map[string]string{"CONSUL_HTTP_TOKEN": "env"}))
	if err != nil || c.Address != "localhost:8500" || c.Token != "mine" {
		t.Errorf("config wins over env: %+v, %v", c, err)
	}
}

func TestParseEtcdConfig(t *testing.T) {
	c, err := ParseEtcdConfig(nil)
	if err != nil || len(c.Endpoints) != 1 || c.Endpoints[0] != "localhost:2379" {
		t.Errorf("defaults: %+v, %v", c, err)
	}
	c, err = ParseEtcdConfig([]byte(`{"endpoints":["a:2379","http://b:2379"],"dial-timeout":5000000000,"username":"u"}`))
	if err != nil || len(c.Endpoints) != 2 || c.DialTimeout.Seconds() != 5 || c.Username != "u" {
		t.Errorf("parsed: %+v, %v", c, err)
	}
}
