package shell

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/rdb/rdb/client"
)

// optionalKey returns the first argument or "".
func optionalKey(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}

func (s *Shell) cmdStatus(ctx context.Context, args []string) error {
	doc, err := s.c.Status(ctx, optionalKey(args))
	if err != nil {
		return err
	}
	printTree(s.out, doc, 0)
	return nil
}

func (s *Shell) cmdExpvar(ctx context.Context, args []string) error {
	doc, err := s.c.Expvar(ctx, optionalKey(args))
	if err != nil {
		return err
	}
	printTree(s.out, doc, 0)
	return nil
}

// nodeDoc turns a node into the map printTree shows.
func nodeDoc(n client.Node) map[string]any {
	b, err := json.Marshal(n)
	if err != nil {
		return map[string]any{"id": n.ID}
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return map[string]any{"id": n.ID}
	}
	return doc
}

func (s *Shell) cmdNodes(ctx context.Context, args []string) error {
	all := len(args) > 0 && args[0] == "all"
	if len(args) > 0 && !all {
		return errUsage
	}
	nodes, err := s.c.Nodes(ctx, all)
	if err != nil {
		return err
	}
	doc := make(map[string]any, len(nodes))
	for _, n := range nodes {
		doc[n.ID] = nodeDoc(n)
	}
	printTree(s.out, doc, 0)
	return nil
}

func (s *Shell) cmdLeader(ctx context.Context, _ []string) error {
	nodes, err := s.c.Nodes(ctx, true)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if n.Leader {
			printTree(s.out, nodeDoc(n), 0)
			return nil
		}
	}
	return fmt.Errorf("no leader: the cluster has not elected one")
}

func (s *Shell) cmdReady(ctx context.Context, _ []string) error {
	ok, _, err := s.c.Ready(ctx)
	if err != nil {
		return err
	}
	if ok {
		fmt.Fprintln(s.out, "ready")
	} else {
		fmt.Fprintln(s.out, "not ready")
	}
	return nil
}

func (s *Shell) cmdExtensions(ctx context.Context, _ []string) error {
	doc, err := s.c.Status(ctx, "extensions")
	if err != nil {
		return err
	}
	names, _ := doc["names"].([]any)
	for _, n := range names {
		fmt.Fprintln(s.out, formatValue(n, ""))
	}
	return nil
}

func (s *Shell) cmdRemove(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	return s.c.Remove(ctx, args[0])
}

func (s *Shell) cmdSnapshot(ctx context.Context, args []string) error {
	trailing := 0
	if len(args) > 0 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 0 {
			return errUsage
		}
		trailing = n
	}
	return s.c.Snapshot(ctx, trailing)
}

func (s *Shell) cmdReap(ctx context.Context, _ []string) error {
	r, err := s.c.Reap(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(s.out, r)
	return nil
}

func (s *Shell) cmdStepdown(ctx context.Context, args []string) error {
	return s.c.Stepdown(ctx, optionalKey(args), true)
}
