package system_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// linkMode is what the network does to bytes flowing one way between two
// nodes.
type linkMode int

const (
	linkUp linkMode = iota
	// linkCut closes every connection between the pair and every new one
	// at once (a reset, as after a crashed switch port).
	linkCut
	// linkBlackhole keeps connections open and discards the bytes: the
	// sender only learns of it through its own timeouts. A connection
	// that lost bytes is closed once the link heals (its stream is broken).
	linkBlackhole
)

// link is the state of one direction between two nodes.
type link struct {
	mode  linkMode
	delay time.Duration // added before each chunk is forwarded
	drop  float64       // probability that a chunk closes its connection
}

// netFaults is the network between the nodes of a fault cluster: every
// node advertises a proxy (listening on its own port) as its Raft address,
// so every byte of Raft and cluster RPC traffic one node sends another
// passes a proxy, which applies the link state of that direction. Which
// node dialled a connection is found from the dialler's socket (Linux
// /proc), so links are per pair and per direction.
type netFaults struct {
	mu      sync.Mutex
	links   map[[2]int]link
	conns   map[*proxyConn]bool
	pids    func() []int // process ID of each node, 0 if down
	rng     *rand.Rand
	proxies []*nodeProxy
	// known and unknown count connections whose dialling node was and
	// was not found.
	known, unknown atomic.Int64
}

func newNetFaults(seed uint64, pids func() []int) *netFaults {
	return &netFaults{links: map[[2]int]link{}, conns: map[*proxyConn]bool{}, pids: pids,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// nodeProxy accepts connections for node to and forwards them to the
// address target returns (the node's real Raft bind address).
type nodeProxy struct {
	nf     *netFaults
	to     int
	ln     net.Listener
	target func() string
}

// listen starts the proxy of node to.
func (nf *netFaults) listen(to int, target func() string) (*nodeProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for proxy of node %d: %w", to, err)
	}
	p := &nodeProxy{nf: nf, to: to, ln: ln, target: target}
	nf.mu.Lock()
	nf.proxies = append(nf.proxies, p)
	nf.mu.Unlock()
	go p.serve()
	return p, nil
}

// Addr is the address the node advertises.
func (p *nodeProxy) Addr() string { return p.ln.Addr().String() }

func (p *nodeProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

// proxyConn is one proxied connection from node from (-1 if unknown) to
// node to.
type proxyConn struct {
	from, to     int
	client, node net.Conn
	once         sync.Once
	poisoned     bool // guarded by netFaults.mu
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		c.client.Close()
		if c.node != nil {
			c.node.Close()
		}
	})
}

func (p *nodeProxy) handle(client net.Conn) {
	from := p.nf.identify(client)
	if from < 0 {
		p.nf.unknown.Add(1)
	} else {
		p.nf.known.Add(1)
	}
	p.nf.mu.Lock()
	cut := p.nf.get(from, p.to).mode == linkCut || p.nf.get(p.to, from).mode == linkCut
	p.nf.mu.Unlock()
	if cut {
		client.Close()
		return
	}
	node, err := net.DialTimeout("tcp", p.target(), 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	c := &proxyConn{from: from, to: p.to, client: client, node: node}
	if !p.nf.track(c) {
		c.close()
		return
	}
	go p.nf.pump(c, client, node, from, p.to)
	go p.nf.pump(c, node, client, p.to, from)
}

// track registers c, unless the proxies are closed.
func (nf *netFaults) track(c *proxyConn) bool {
	nf.mu.Lock()
	defer nf.mu.Unlock()
	if nf.conns == nil {
		return false
	}
	nf.conns[c] = true
	return true
}

// pump copies src to dst, one chunk at a time, applying the link from→to
// to each chunk.
func (nf *netFaults) pump(c *proxyConn, src, dst net.Conn, from, to int) {
	defer func() {
		c.close()
		nf.mu.Lock()
		delete(nf.conns, c)
		nf.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !nf.forward(c, dst, buf[:n], from, to) {
			return
		}
		if err != nil {
			return
		}
	}
}

// forward applies the link from→to to one chunk and reports whether the
// connection lives on.
func (nf *netFaults) forward(c *proxyConn, dst net.Conn, chunk []byte, from, to int) bool {
	nf.mu.Lock()
	l := nf.get(from, to)
	back := nf.get(to, from)
	drop := l.drop > 0 && nf.rng.Float64() < l.drop
	if l.mode == linkBlackhole {
		c.poisoned = true
	}
	poisoned := c.poisoned && l.mode != linkBlackhole
	nf.mu.Unlock()
	switch {
	case l.mode == linkCut || back.mode == linkCut || drop || poisoned:
		return false
	case l.mode == linkBlackhole:
		return true
	}
	if l.delay > 0 {
		time.Sleep(l.delay)
	}
	_, err := dst.Write(chunk)
	return err == nil
}

// get returns the link from→to; nf.mu must be held.
func (nf *netFaults) get(from, to int) link {
	if from < 0 || to < 0 {
		return link{}
	}
	return nf.links[[2]int{from, to}]
}

// set changes the link from→to; cutting it closes the connections between
// the pair.
func (nf *netFaults) set(from, to int, l link) {
	nf.mu.Lock()
	defer nf.mu.Unlock()
	nf.links[[2]int{from, to}] = l
	if l.mode != linkCut {
		return
	}
	for c := range nf.conns {
		if (c.from == from && c.to == to) || (c.from == to && c.to == from) {
			go c.close()
		}
	}
}

// heal sets every link up and resets the connections that lost bytes
// to a blackhole. Real TCP would retransmit them after a partition, or
// reset the connection when its retransmission timer gives up; a stream
// with a hole in it can do neither, and a request swallowed whole would
// leave its caller waiting on a silent connection until its own timeout.
func (nf *netFaults) heal() {
	nf.mu.Lock()
	defer nf.mu.Unlock()
	nf.links = map[[2]int]link{}
	for c := range nf.conns {
		if c.poisoned {
			go c.close()
		}
	}
}

// isolate cuts (or blackholes) both directions between node i and each
// of others.
func (nf *netFaults) isolate(i int, others []int, mode linkMode) {
	for _, o := range others {
		if o != i {
			nf.set(i, o, link{mode: mode})
			nf.set(o, i, link{mode: mode})
		}
	}
}

// close stops the proxies and drops every connection.
func (nf *netFaults) close() {
	nf.mu.Lock()
	defer nf.mu.Unlock()
	for _, p := range nf.proxies {
		p.ln.Close()
	}
	for c := range nf.conns {
		go c.close()
	}
	nf.conns = nil
}

// identify returns the index of the node whose process dialled c, or -1.
// The dialler's socket is the one whose local port is c's remote port and
// whose remote port is the proxy's: its inode, from /proc/net/tcp, is
// looked up among each node's open files. The dialling side's entry may
// lag the accept by a moment, so it tries a few times.
func (nf *netFaults) identify(c net.Conn) int {
	remote, ok1 := c.RemoteAddr().(*net.TCPAddr)
	local, ok2 := c.LocalAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return -1
	}
	for range 5 {
		inode, err := socketInode(remote.Port, local.Port)
		if err == nil {
			if i := ownerOf(inode, nf.pids()); i >= 0 {
				return i
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return -1
}

var errNoSocket = errors.New("socket not found")

// socketInode finds, in /proc/net/tcp, the inode of the IPv4 socket with
// local port lport and remote port rport.
func socketInode(lport, rport int) (string, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return "", fmt.Errorf("open /proc/net/tcp: %w", err)
	}
	defer f.Close()
	wantL, wantR := fmt.Sprintf(":%04X", lport), fmt.Sprintf(":%04X", rport)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 || !strings.HasSuffix(fs[1], wantL) || !strings.HasSuffix(fs[2], wantR) {
			continue
		}
		return fs[9], nil
	}
	return "", errNoSocket
}

// ownerOf returns the index in pids of the process that has socket inode
// open, or -1.
func ownerOf(inode string, pids []int) int {
	want := "socket:[" + inode + "]"
	for i, pid := range pids {
		if pid == 0 {
			continue
		}
		dir := "/proc/" + strconv.Itoa(pid) + "/fd"
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && l == want {
				return i
			}
		}
	}
	return -1
}

// procNetAvailable reports whether connections can be attributed to
// processes here (Linux with /proc).
func procNetAvailable() bool {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = io.ReadAll(io.LimitReader(f, 1))
	return err == nil
}
