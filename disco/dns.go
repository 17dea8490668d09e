package disco

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Resolver is the part of *net.Resolver discovery uses; tests pass fakes.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// NewResolver returns the system's resolver, or, if server (host:port) is
// set, Go's resolver asking that DNS server.
func NewResolver(server string) Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

// Lookuper finds the Raft addresses of the nodes to form a cluster with.
type Lookuper interface {
	Lookup(ctx context.Context) ([]string, error)
}

// lookupStats remembers the outcome of the latest lookups for /status.
type lookupStats struct {
	mu          sync.Mutex
	lastAddrs   []string
	lastContact time.Time
	lastErr     string
}

func (s *lookupStats) record(addrs []string, contacted bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.lastErr = err.Error()
		return
	}
	s.lastAddrs, s.lastErr = addrs, ""
	if contacted {
		s.lastContact = time.Now()
	}
}

// fill adds last_addresses, last_contact and last_error, each only once
// it has a value.
func (s *lookupStats) fill(m map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastAddrs != nil {
		m["last_addresses"] = slices.Clone(s.lastAddrs)
	}
	if !s.lastContact.IsZero() {
		m["last_contact"] = s.lastContact
	}
	if s.lastErr != "" {
		m["last_error"] = s.lastErr
	}
}

// DNS looks peers up as the A/AAAA records of a name (dns mode).
type DNS struct {
	cfg   DNSConfig
	hosts string
	r     Resolver
	stats lookupStats
}

// NewDNS returns the dns-mode lookup. port replaces a config port of 0
// (rqlite uses this node's -raft-addr port). hosts, if not empty, is
// RQLITE_DISCO_DNS_HOSTS: its comma-separated host:port items are then the
// answer, and no DNS query is made.
func NewDNS(cfg DNSConfig, port int, hosts string, r Resolver) *DNS {
	if cfg.Port == 0 {
		cfg.Port = port
	}
	if r == nil {
		r = NewResolver(cfg.Resolver)
	}
	return &DNS{cfg: cfg, hosts: hosts, r: r}
}

// Lookup returns the sorted ip:port addresses of the name's records, or
// the override list verbatim.
func (d *DNS) Lookup(ctx context.Context) ([]string, error) {
	addrs, contacted, err := d.lookup(ctx)
	d.stats.record(addrs, contacted, err)
	return addrs, err
}

func (d *DNS) lookup(ctx context.Context) ([]string, bool, error) {
	if d.hosts != "" {
		addrs, err := parseHosts(d.hosts)
		return addrs, false, err
	}
	ips, err := d.r.LookupIPAddr(ctx, d.cfg.Name)
	if err != nil {
		return nil, false, fmt.Errorf("look up %s: %w", d.cfg.Name, err)
	}
	port := strconv.Itoa(d.cfg.Port)
	addrs := make([]string, 0, len(ips))
	for _, ip := range ips {
		addrs = append(addrs, net.JoinHostPort(ip.IP.String(), port))
	}
	slices.Sort(addrs)
	return slices.Compact(addrs), true, nil
}

// parseHosts splits RQLITE_DISCO_DNS_HOSTS.
func parseHosts(hosts string) ([]string, error) {
	var out []string
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if host, port, err := net.SplitHostPort(h); err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("%w %s", ErrInvalidHostsOverride, h)
		}
		out = append(out, h)
	}
	return out, nil
}

// Stats is the /status "disco" section of the dns mode.
func (d *DNS) Stats() map[string]any {
	m := map[string]any{"mode": ModeDNS, "name": d.cfg.Name, "port": d.cfg.Port}
	d.stats.fill(m)
	return m
}

// DNSSRV looks peers up as the SRV records of _<service>._tcp.<name>
// (dns-srv mode); each target's addresses with the record's port.
type DNSSRV struct {
	cfg   DNSSRVConfig
	r     Resolver
	stats lookupStats
}

// NewDNSSRV returns the dns-srv-mode lookup; a nil r means cfg's resolver.
func NewDNSSRV(cfg DNSSRVConfig, r Resolver) *DNSSRV {
	if r == nil {
		r = NewResolver(cfg.Resolver)
	}
	return &DNSSRV{cfg: cfg, r: r}
}

// dnsName is the SRV name asked for.
func (d *DNSSRV) dnsName() string { return "_" + d.cfg.Service + "._tcp." + d.cfg.Name }

// Lookup returns the sorted ip:port addresses of the SRV targets
// (priority and weight are ignored, as rqlite does).
func (d *DNSSRV) Lookup(ctx context.Context) ([]string, error) {
	addrs, err := d.lookup(ctx)
	d.stats.record(addrs, err == nil, err)
	return addrs, err
}

func (d *DNSSRV) lookup(ctx context.Context) ([]string, error) {
	_, srvs, err := d.r.LookupSRV(ctx, d.cfg.Service, "tcp", d.cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("look up SRV %s: %w", d.dnsName(), err)
	}
	var addrs []string
	for _, srv := range srvs {
		ips, err := d.r.LookupIPAddr(ctx, srv.Target)
		if err != nil {
			return nil, fmt.Errorf("look up SRV target %s: %w", srv.Target, err)
		}
		port := strconv.Itoa(int(srv.Port))
		for _, ip := range ips {
			addrs = append(addrs, net.JoinHostPort(ip.IP.String(), port))
		}
	}
	slices.Sort(addrs)
	return slices.Compact(addrs), nil
}

// Stats is the /status "disco" section of the dns-srv mode; the
// "dns_name:" key, colon included, is rqlite's.
func (d *DNSSRV) Stats() map[string]any {
	m := map[string]any{"mode": ModeDNSSRV, "name": d.cfg.Name, "service": d.cfg.Service, "dns_name:": d.dnsName()}
	d.stats.fill(m)
	return m
}
