package cluster

import (
	"context"
	"fmt"

	"github.com/rdb/rdb/internal/auth"
	"github.com/rdb/rdb/store"
)

// authorize fails with ErrUnauthorized unless the call's credentials
// hold every perm. Without an Authorizer everything is allowed.
func (s *Service) authorize(ctx context.Context, op string, perms ...string) error {
	if s.cfg.Auth == nil {
		return nil
	}
	creds, _ := CredentialsFrom(ctx)
	for _, p := range perms {
		if !s.cfg.Auth.Authorized(creds.Username, creds.Password, p) {
			stats.Add(numUnauthorized, 1)
			// Credentials are never logged, not even the username.
			s.logger.Debug("rpc refused: missing permission", "op", op, "perm", p)
			return fmt.Errorf("%s needs permission %q: %w", op, p, ErrUnauthorized)
		}
	}
	return nil
}

// joinPerm is the permission a join needs: plain join does not allow a
// non-voter to join (API.md §6, MUST-COPY).
func joinPerm(voter bool) string {
	if voter {
		return auth.PermJoin
	}
	return auth.PermJoinReadOnly
}

// authHandler checks permissions, then hands the call to the Service's
// handler.
type authHandler struct{ handler }

func (h authHandler) Join(ctx context.Context, req JoinRequest) (string, error) {
	if err := h.s.authorize(ctx, "join", joinPerm(req.Voter)); err != nil {
		return "", err
	}
	return h.handler.Join(ctx, req)
}

func (h authHandler) Notify(ctx context.Context, req NotifyRequest) error {
	if err := h.s.authorize(ctx, "notify", auth.PermJoin); err != nil {
		return err
	}
	return h.handler.Notify(ctx, req)
}

func (h authHandler) Remove(ctx context.Context, id string) error {
	if err := h.s.authorize(ctx, "remove", auth.PermRemove); err != nil {
		return err
	}
	return h.handler.Remove(ctx, id)
}

func (h authHandler) Stepdown(ctx context.Context, req StepdownRequest) error {
	if err := h.s.authorize(ctx, "stepdown", auth.PermLeaderOps); err != nil {
		return err
	}
	return h.handler.Stepdown(ctx, req)
}

func (h authHandler) Execute(ctx context.Context, req *store.Request) (store.Response, error) {
	if err := h.s.authorize(ctx, "execute", auth.PermExecute); err != nil {
		return store.Response{}, err
	}
	return h.handler.Execute(ctx, req)
}

func (h authHandler) Query(ctx context.Context, req *store.Request) (store.Response, error) {
	if err := h.s.authorize(ctx, "query", auth.PermQuery); err != nil {
		return store.Response{}, err
	}
	return h.handler.Query(ctx, req)
}

func (h authHandler) Request(ctx context.Context, req *store.Request) (store.Response, error) {
	if err := h.s.authorize(ctx, "request", auth.PermQuery, auth.PermExecute); err != nil {
		return store.Response{}, err
	}
	return h.handler.Request(ctx, req)
}
