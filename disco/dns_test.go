package disco

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
)

type fakeResolver struct {
	ips  map[string][]string
	srvs map[string][]*net.SRV
	err  error
}

func (f fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []net.IPAddr
	for _, s := range f.ips[host] {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func (f fakeResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	if f.err != nil {
		return "", nil, f.err
	}
	return "", f.srvs["_"+service+"._"+proto+"."+name], nil
}

func TestDNS_Lookup(t *testing.T) {
	r := fakeResolver{ips: map[string][]string{"svc": {"10.0.0.2", "10.0.0.1", "fd00::1", "10.0.0.1"}}}
	d := NewDNS(DNSConfig{Name: "svc"}, 4002, "", r)
	if st := d.Stats(); st["port"] != 4002 || st["last_contact"] != nil || st["last_addresses"] != nil {
		t.Errorf("stats before lookup: %v", st)
	}
	got, err := d.Lookup(context.Background())
	want := []string{"10.0.0.1:4002", "10.0.0.2:4002", "[fd00::1]:4002"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Lookup = %v, %v; want %v", got, err, want)
	}
	st := d.Stats()
	if st["mode"] != "dns" || st["name"] != "svc" || st["last_contact"] == nil || !slices.Equal(st["last_addresses"].([]string), want) {
		t.Errorf("stats: %v", st)
	}
}

func TestDNS_HostsOverride(t *testing.T) {
	r := fakeResolver{err: errors.New("no DNS query may be made")}
	d := NewDNS(DNSConfig{Name: "rqlite.cluster"}, 4002, "localhost:4006,localhost:4002", r)
	got, err := d.Lookup(context.Background())
	if err != nil || !slices.Equal(got, []string{"localhost:4006", "localhost:4002"}) {
		t.Errorf("Lookup = %v, %v; want the list verbatim", got, err)
	}
	if st := d.Stats(); st["last_contact"] != nil {
		t.Errorf("last_contact set without a DNS answer: %v", st)
	}
	d = NewDNS(DNSConfig{}, 4002, "localhost:4002,nohostport", r)
	_, err = d.Lookup(context.Background())
	if !errors.Is(err, ErrInvalidHostsOverride) || err.Error() != "RQLITE_DISCO_DNS_HOSTS: invalid address nohostport" {
		t.Errorf("invalid item: %v", err)
	}
	if st := d.Stats(); st["last_error"] != err.Error() {
		t.Errorf("last_error = %v", st["last_error"])
	}
}

func TestDNSSRV_Lookup(t *testing.T) {
	r := fakeResolver{
		srvs: map[string][]*net.SRV{"_rqlite._tcp.db": {{Target: "b.db.", Port: 5002}, {Target: "a.db.", Port: 4002}}},
		ips:  map[string][]string{"a.db.": {"10.0.0.1"}, "b.db.": {"10.0.0.2"}},
	}
	d := NewDNSSRV(DNSSRVConfig{Name: "db", Service: "rqlite"}, r)
	got, err := d.Lookup(context.Background())
	if want := []string{"10.0.0.1:4002", "10.0.0.2:5002"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("Lookup = %v, %v; want %v", got, err, want)
	}
	if st := d.Stats(); st["dns_name:"] != "_rqlite._tcp.db" || st["mode"] != "dns-srv" || st["service"] != "rqlite" {
		t.Errorf("stats: %v", st)
	}
	_, err = NewDNSSRV(DNSSRVConfig{Name: "db", Service: "rqlite"}, fakeResolver{err: errors.New("nxdomain")}).Lookup(context.Background())
	if err == nil {
		t.Error("resolver error not returned")
	}
}
