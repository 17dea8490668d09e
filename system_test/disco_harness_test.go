package system_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// discoKey is a fresh -disco-key, so tests sharing a key-value store do
// not see each other's leader records (rqlite's e2e does the same).
func discoKey() string { return fmt.Sprintf("rdb-test-%016x", rand.Uint64()) }

// statusSection fetches one top-level section of /status.
func statusSection(n *Node, key string) (map[string]any, error) {
	code, body, err := n.Do("GET", "/status", "", "")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /status on %s: status %d: %s", n.HTTPAddr, code, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return nil, fmt.Errorf("decode /status of %s: %w", n.HTTPAddr, err)
	}
	sec, ok := m[key].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("/status of %s has no %q section: %s", n.HTTPAddr, key, body)
	}
	return sec, nil
}

// isVoter reads store.raft.voter from /status.
func isVoter(n *Node) (bool, error) {
	s, err := n.Status()
	return s.Raft.Voter, err
}

// dnsServer is a DNS server on 127.0.0.1 (UDP) for the dns-srv tests: it
// answers SRV questions for one name with the records it holds, A
// questions for the targets with 127.0.0.1, and anything else with no
// records.
type dnsServer struct {
	conn    net.PacketConn
	srvName string // "_service._tcp.name." (lower case)

	mu      sync.Mutex
	targets map[string]uint16 // target name (lower case, with dot) → port
}

// startDNSServer serves SRV records for _<service>._tcp.<name>.
func startDNSServer(t *testing.T, service, name string) *dnsServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for DNS: %v", err)
	}
	d := &dnsServer{conn: conn, srvName: strings.ToLower("_" + service + "._tcp." + name + "."), targets: map[string]uint16{}}
	t.Cleanup(func() { conn.Close() })
	go d.serve()
	return d
}

// Addr is the server's address, for the "resolver" config key.
func (d *dnsServer) Addr() string { return d.conn.LocalAddr().String() }

// add makes target (a name under the zone) an SRV target on port.
func (d *dnsServer) add(target string, port uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.targets[strings.ToLower(target+".")] = port
}

func (d *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if out, err := d.answer(buf[:n]); err == nil {
			d.conn.WriteTo(out, from)
		}
	}
}

func (d *dnsServer) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeSuccess})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	name := strings.ToLower(q.Name.String())
	hdr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 1}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case q.Type == dnsmessage.TypeSRV && name == d.srvName:
		for target, port := range d.targets {
			tn, err := dnsmessage.NewName(target)
			if err != nil {
				return nil, err
			}
			if err := b.SRVResource(hdr, dnsmessage.SRVResource{Priority: 10, Weight: 10, Port: port, Target: tn}); err != nil {
				return nil, err
			}
		}
	case q.Type == dnsmessage.TypeA:
		if _, ok := d.targets[name]; ok {
			if err := b.AResource(hdr, dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}}); err != nil {
				return nil, err
			}
		}
	}
	return b.Finish()
}
