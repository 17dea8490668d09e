package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/store"
)

// handleStatus serves GET /status (API.md §1.7). The document is
// normalised through a generic JSON round trip so every object's keys
// come out sorted, whatever types the reporters return.
func (s *Service) handleStatus(c echo.Context) error {
	stats.Add(numStatus, 1)
	p := paramsOf(c)
	doc, err := s.statusDoc()
	if err != nil {
		return err
	}
	v, err := normalise(doc)
	if err != nil {
		return err
	}
	if p.key != "" {
		v = subDocument(v, p.key)
	}
	return writeJSON(c, http.StatusOK, v, p.pretty)
}

func (s *Service) statusDoc() (map[string]any, error) {
	st := map[string]any{"open": false}
	if s.store.IsOpen() {
		var err error
		if st, err = s.store.Stats(); err != nil {
			return nil, fmt.Errorf("store stats: %w", err)
		}
	}
	now := time.Now()
	doc := map[string]any{
		"build":   s.buildStatus(),
		"http":    s.httpStatus(),
		"node":    map[string]any{"start_time": s.start, "current_time": now, "uptime": now.Sub(s.start).String()},
		"os":      osStatus(),
		"runtime": runtimeStatus(),
		"store":   st,
		"cluster": map[string]any{"addr": s.cfg.RaftAdvAddr, "api_addr": s.cfg.AdvAddr,
			"https": fmt.Sprintf("%t", s.cfg.HTTPS)},
		"network": networkStatus(),
	}
	if t, ok := s.lastBackup.Load().(time.Time); ok {
		doc["last_backup_time"] = t
	}
	for name, report := range s.cfg.Reporters {
		m, err := report()
		if err != nil {
			return nil, fmt.Errorf("%s stats: %w", name, err)
		}
		doc[name] = m
	}
	return doc, nil
}

func (s *Service) buildStatus() map[string]any {
	return map[string]any{
		"version":            s.cfg.version(),
		"commit":             s.cfg.Commit,
		"branch":             s.cfg.Branch,
		"build_time":         s.cfg.BuildTime,
		"compiler_toolchain": s.cfg.CompilerToolchain,
		"compiler_command":   s.cfg.CompilerCommand,
	}
}

func (s *Service) httpStatus() map[string]any {
	bind := s.cfg.Addr
	if a := s.Addr(); a != nil {
		bind = a.String()
	}
	m := map[string]any{
		"bind_addr": bind,
		"auth":      "disabled",
		"queue":     map[string]any{"_default": s.queue.stats()},
		"tls":       map[string]any{"enabled": "false"},
	}
	if s.cfg.AllowOrigin != "" {
		m["allow_origin"] = s.cfg.AllowOrigin
	}
	return m
}

func osStatus() map[string]any {
	exe, _ := os.Executable()
	host, _ := os.Hostname()
	return map[string]any{
		"pid": os.Getpid(), "ppid": os.Getppid(), "page_size": os.Getpagesize(),
		"executable": exe, "hostname": host,
	}
}

// networkStatus lists the host's network interfaces as rqlite's "network"
// section does: name → flags, hardware address and addresses. An
// interface whose addresses cannot be read is listed without them.
func networkStatus() map[string]any {
	ifaces, err := net.Interfaces()
	if err != nil {
		return map[string]any{}
	}
	m := make(map[string]any, len(ifaces))
	for _, i := range ifaces {
		addrs, _ := i.Addrs()
		list := make([]map[string]string, 0, len(addrs))
		for _, a := range addrs {
			list = append(list, map[string]string{"address": a.String()})
		}
		m[i.Name] = map[string]any{"flags": i.Flags.String(),
			"hardware_address": i.HardwareAddr.String(), "addresses": list}
	}
	return m
}

func runtimeStatus() map[string]any {
	return map[string]any{
		"GOARCH": runtime.GOARCH, "GOOS": runtime.GOOS, "GOMAXPROCS": runtime.GOMAXPROCS(0),
		"num_cpu": runtime.NumCPU(), "num_goroutine": runtime.NumGoroutine(),
		"version": runtime.Version(),
	}
}

// normalise turns v into maps, slices and json.Numbers.
func normalise(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("decode status: %w", err)
	}
	return out, nil
}

// subDocument follows a dotted key; a missing key gives {}.
func subDocument(v any, key string) any {
	for _, k := range strings.Split(key, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return map[string]any{}
		}
		if v, ok = m[k]; !ok {
			return map[string]any{}
		}
	}
	return v
}

// handleNodes serves GET /nodes (API.md §1.8): an object keyed by node
// ID, or with ?ver=2 {"nodes":[…]} sorted by ID.
func (s *Service) handleNodes(c echo.Context) error {
	p := paramsOf(c)
	if !s.store.IsOpen() {
		return store.ErrNotOpen
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), p.timeoutOr(s.cfg.DefaultTimeout))
	defer cancel()
	nodes, err := s.cluster.Nodes(ctx, p.nonVoters)
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	if p.ver == "2" {
		sorted := append([]cluster.Node{}, nodes...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
		return writeJSON(c, http.StatusOK, struct {
			Nodes []cluster.Node `json:"nodes"`
		}{sorted}, p.pretty)
	}
	byID := make(map[string]cluster.Node, len(nodes))
	for _, n := range nodes {
		byID[n.ID] = n
	}
	return writeJSON(c, http.StatusOK, byID, p.pretty)
}

// handleLeader serves GET /leader: the leader's node object, 503 when
// no leader is known; POST /leader is a leadership transfer.
func (s *Service) handleLeader(c echo.Context) error {
	if c.Request().Method == http.MethodPost {
		return s.handleStepdown(c)
	}
	p := paramsOf(c)
	addr := s.store.LeaderAddr()
	if !s.store.IsOpen() || addr == "" {
		return store.ErrLeaderNotFound
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), p.timeoutOr(s.cfg.DefaultTimeout))
	defer cancel()
	nodes, err := s.cluster.Nodes(ctx, true)
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	for _, match := range []func(n cluster.Node) bool{
		func(n cluster.Node) bool { return n.Leader },
		func(n cluster.Node) bool { return n.Addr == addr },
	} {
		for _, n := range nodes {
			if match(n) {
				n.Leader = true
				return writeJSON(c, http.StatusOK, n, p.pretty)
			}
		}
	}
	return store.ErrLeaderNotFound
}
