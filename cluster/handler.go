package cluster

import (
	"context"
	"fmt"

	"github.com/rdb/rdb/store"
)

// Handler returns this node's RPC handler: node meta, notify, and the
// leader-only operations, which it serves when this node leads and
// otherwise forwards to the leader (so a join sent to a follower still
// succeeds). A call that was itself forwarded is never forwarded again.
// With Config.Auth set, each call first needs the permissions of API.md
// §6 for the credentials it carries (node meta needs none).
func (s *Service) Handler() Handler { return authHandler{handler{s}} }

type handler struct{ s *Service }

func (h handler) Meta(context.Context) (NodeMeta, error) {
	return NodeMeta{ID: h.s.cfg.NodeID, APIURL: h.s.cfg.APIURL, Version: h.s.cfg.Version}, nil
}

func (h handler) Join(ctx context.Context, req JoinRequest) (string, error) {
	if req.ID == "" || req.Addr == "" {
		return "", fmt.Errorf("join %q at %q: %w", req.ID, req.Addr, ErrInvalidRequest)
	}
	s := h.s
	_, servedBy, err := viaLeader(ctx, s.local,
		func(context.Context) (string, error) { return "", s.local.Join(req.ID, req.Addr, req.Voter) },
		func(ctx context.Context, leader string) (string, error) { return s.client.Join(ctx, leader, req) })
	if err != nil {
		return "", fmt.Errorf("join %s at %s: %w", req.ID, req.Addr, err)
	}
	if servedBy == "" {
		servedBy = s.cfg.RaftAddr
	}
	return servedBy, nil
}

func (h handler) Notify(_ context.Context, req NotifyRequest) error {
	if req.ID == "" || req.Addr == "" {
		return fmt.Errorf("notify %q at %q: %w", req.ID, req.Addr, ErrInvalidRequest)
	}
	return h.s.notified(req)
}

func (h handler) Remove(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("remove: empty node ID: %w", ErrInvalidRequest)
	}
	_, err := h.s.proxy.Remove(ctx, id)
	return err
}

func (h handler) Stepdown(ctx context.Context, req StepdownRequest) error {
	_, err := h.s.proxy.Stepdown(ctx, req.ID, req.Wait)
	return err
}

func (h handler) Execute(ctx context.Context, req *store.Request) (store.Response, error) {
	return h.s.proxy.Execute(ctx, req)
}

func (h handler) Query(ctx context.Context, req *store.Request) (store.Response, error) {
	return h.s.proxy.Query(ctx, req)
}

func (h handler) Request(ctx context.Context, req *store.Request) (store.Response, error) {
	return h.s.proxy.Request(ctx, req)
}
