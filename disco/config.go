package disco

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// The discovery modes (-disco-mode).
const (
	ModeDNS    = "dns"
	ModeDNSSRV = "dns-srv"
	ModeEtcd   = "etcd-kv"
	ModeConsul = "consul-kv"
)

// IsMode reports whether m names a discovery mode.
func IsMode(m string) bool {
	switch m {
	case ModeDNS, ModeDNSSRV, ModeEtcd, ModeConsul:
		return true
	}
	return false
}

// IsKV reports whether mode keeps a leader record in a key-value store
// (etcd-kv, consul-kv) rather than looking peers up in DNS.
func IsKV(mode string) bool { return mode == ModeEtcd || mode == ModeConsul }

// ReadConfig returns the -disco-config value as JSON text: the contents of
// the file it names, or, if no such file can be read, the value itself
// (Kubernetes manifests pass the JSON inline). Either way $VAR and ${VAR}
// are replaced by env(VAR) first, as rqlite does. An empty value gives nil
// (the mode's defaults).
func ReadConfig(value string, env func(string) string) []byte {
	if value == "" {
		return nil
	}
	text := value
	if b, err := os.ReadFile(value); err == nil {
		text = string(b)
	}
	return []byte(os.Expand(text, env))
}

// decode unmarshals JSON config text into v, which holds the defaults;
// empty text keeps them. Unknown keys are ignored.
func decode(mode string, text []byte, v any) error {
	if len(strings.TrimSpace(string(text))) == 0 {
		return nil
	}
	if err := json.Unmarshal(text, v); err != nil {
		return fmt.Errorf("%s disco config: %w", mode, err)
	}
	return nil
}

// DNSConfig is the dns mode's configuration: A/AAAA records of Name, each
// address with Port. Port 0 means the port of this node's -raft-addr.
type DNSConfig struct {
	Name string `json:"name"`
	Port int    `json:"port"`
	// Resolver is a DNS server (host:port) to ask instead of the system's
	// (rdb only).
	Resolver string `json:"resolver"`
}

// ParseDNSConfig reads a dns config; defaults: name "rqlite".
func ParseDNSConfig(text []byte) (DNSConfig, error) {
	c := DNSConfig{Name: "rqlite"}
	if err := decode(ModeDNS, text, &c); err != nil {
		return c, err
	}
	if c.Port < 0 || c.Port > 65535 {
		return c, fmt.Errorf("dns disco config: port %d out of range", c.Port)
	}
	return c, nil
}

// DNSSRVConfig is the dns-srv mode's configuration: SRV records of
// _<Service>._tcp.<Name>.
type DNSSRVConfig struct {
	Name    string `json:"name"`
	Service string `json:"service"`
	// Resolver is a DNS server (host:port) to ask instead of the system's
	// (rdb only).
	Resolver string `json:"resolver"`
}

// ParseDNSSRVConfig reads a dns-srv config; defaults: name and service
// "rqlite".
func ParseDNSSRVConfig(text []byte) (DNSSRVConfig, error) {
	c := DNSSRVConfig{Name: "rqlite", Service: "rqlite"}
	err := decode(ModeDNSSRV, text, &c)
	return c, err
}

// ConsulConfig is the consul-kv mode's configuration, with the keys of
// rqlite's Consul client.
type ConsulConfig struct {
	Address    string `json:"address"`
	Scheme     string `json:"scheme"`
	Datacenter string `json:"datacenter"`
	BasicAuth  *struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"basic_auth"`
	Token     string    `json:"token"`
	TokenFile string    `json:"token_file"`
	Namespace string    `json:"namespace"`
	Partition string    `json:"partition"`
	TLS       TLSConfig `json:"tls_config"`
}

// TLSConfig is Consul's tls_config.
type TLSConfig struct {
	Address            string `json:"address"`
	CAFile             string `json:"ca_file"`
	CAPath             string `json:"ca_path"`
	CAPEM              string `json:"ca_pem"`
	CertFile           string `json:"cert_file"`
	CertPEM            string `json:"cert_pem"`
	KeyFile            string `json:"key_file"`
	KeyPEM             string `json:"key_pem"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify"`
}

// ParseConsulConfig reads a consul-kv config. Unset fields take the Consul
// client's defaults from env (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN,
// CONSUL_HTTP_TOKEN_FILE, CONSUL_HTTP_AUTH, CONSUL_HTTP_SSL,
// CONSUL_NAMESPACE, CONSUL_PARTITION), then 127.0.0.1:8500 over http.
func ParseConsulConfig(text []byte, env func(string) string) (ConsulConfig, error) {
	var c ConsulConfig
	if err := decode(ModeConsul, text, &c); err != nil {
		return c, err
	}
	if strings.HasPrefix(c.Address, "http") {
		return c, ErrConsulAddressScheme
	}
	if c.Address == "" {
		c.Address = env("CONSUL_HTTP_ADDR")
		if s, rest, ok := strings.Cut(c.Address, "://"); ok {
			if c.Scheme == "" {
				c.Scheme = s
			}
			c.Address = rest
		}
	}
	if c.Address == "" {
		c.Address = "127.0.0.1:8500"
	}
	if c.Scheme == "" {
		c.Scheme = "http"
		if v := env("CONSUL_HTTP_SSL"); v == "1" || strings.EqualFold(v, "true") {
			c.Scheme = "https"
		}
	}
	if c.Scheme != "http" && c.Scheme != "https" {
		return c, fmt.Errorf("consul-kv disco config: scheme %q must be http or https", c.Scheme)
	}
	fillFromEnv(&c.Token, env, "CONSUL_HTTP_TOKEN")
	fillFromEnv(&c.TokenFile, env, "CONSUL_HTTP_TOKEN_FILE")
	fillFromEnv(&c.Namespace, env, "CONSUL_NAMESPACE")
	fillFromEnv(&c.Partition, env, "CONSUL_PARTITION")
	if c.BasicAuth == nil {
		if u, p, ok := strings.Cut(env("CONSUL_HTTP_AUTH"), ":"); ok || u != "" {
			c.BasicAuth = &struct {
				Username string `json:"username"`
				Password string `json:"password"`
			}{u, p}
		}
	}
	return c, nil
}

func fillFromEnv(dst *string, env func(string) string, name string) {
	if *dst == "" {
		*dst = env(name)
	}
}

// EtcdConfig is the etcd-kv mode's configuration: the JSON form of etcd
// clientv3's Config, durations in nanoseconds.
type EtcdConfig struct {
	Endpoints            []string      `json:"endpoints"`
	Username             string        `json:"username"`
	Password             string        `json:"password"`
	DialTimeout          time.Duration `json:"dial-timeout"`
	AutoSyncInterval     time.Duration `json:"auto-sync-interval"`
	DialKeepAliveTime    time.Duration `json:"dial-keep-alive-time"`
	DialKeepAliveTimeout time.Duration `json:"dial-keep-alive-timeout"`
	RejectOldCluster     bool          `json:"reject-old-cluster"`
}

// ParseEtcdConfig reads an etcd-kv config; default endpoint
// localhost:2379.
func ParseEtcdConfig(text []byte) (EtcdConfig, error) {
	var c EtcdConfig
	if err := decode(ModeEtcd, text, &c); err != nil {
		return c, err
	}
	if len(c.Endpoints) == 0 {
		c.Endpoints = []string{"localhost:2379"}
	}
	if c.DialTimeout < 0 {
		return c, fmt.Errorf("etcd-kv disco config: dial-timeout %v must not be negative", c.DialTimeout)
	}
	return c, nil
}
