package cluster

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/rdb/rdb/store"
)

// testAuth grants perms per user with password "pw-<user>"; "*" holds
// anyPerms.
type testAuth struct {
	perms    map[string][]string
	anyPerms []string
}

func (a testAuth) Authorized(user, pass, perm string) bool {
	has := func(ps []string) bool {
		for _, p := range ps {
			if p == perm || p == "all" {
				return true
			}
		}
		return false
	}
	if has(a.anyPerms) {
		return true
	}
	ps, ok := a.perms[user]
	return ok && pass == "pw-"+user && has(ps)
}

var strictAuth = testAuth{perms: map[string][]string{
	"admin":   {"all"},
	"writer":  {"execute"},
	"reader":  {"query"},
	"joiner":  {"join"},
	"replica": {"join-read-only"},
	"ops":     {"remove", "leader-ops"},
}}

func TestHandler_Authorization(t *testing.T) {
	ln := listen(t)
	local := &fakeLocal{leaderAddr: constant(ln.Addr().String())}
	n := startNode(t, ln, "n1", local, func(c *Config) { c.Auth = strictAuth })
	req := &store.Request{}
	ops := []struct {
		name   string
		allows []string // users allowed; every other user is refused
		call   func(ctx context.Context) error
	}{
		{"execute", []string{"admin", "writer"}, func(ctx context.Context) error {
			_, err := n.client.Execute(ctx, n.addr, req)
			return err
		}},
		{"query", []string{"admin", "reader"}, func(ctx context.Context) error {
			_, err := n.client.Query(ctx, n.addr, req)
			return err
		}},
		{"request", []string{"admin"}, func(ctx context.Context) error {
			_, err := n.client.Request(ctx, n.addr, req)
			return err
		}},
		{"join voter", []string{"admin", "joiner"}, func(ctx context.Context) error {
			_, err := n.client.Join(ctx, n.addr, JoinRequest{ID: "n2", Addr: "127.0.0.1:1", Voter: true})
			return err
		}},
		{"join non-voter", []string{"admin", "replica"}, func(ctx context.Context) error {
			_, err := n.client.Join(ctx, n.addr, JoinRequest{ID: "n2", Addr: "127.0.0.1:1"})
			return err
		}},
		{"notify", []string{"admin", "joiner"}, func(ctx context.Context) error {
			return n.client.Notify(ctx, n.addr, NotifyRequest{ID: "n2", Addr: "127.0.0.1:1"})
		}},
		{"remove", []string{"admin", "ops"}, func(ctx context.Context) error {
			return n.client.Remove(ctx, n.addr, "n2")
		}},
		{"stepdown", []string{"admin", "ops"}, func(ctx context.Context) error {
			return n.client.Stepdown(ctx, n.addr, StepdownRequest{})
		}},
		{"meta", []string{"admin", "writer", "reader", "joiner", "replica", "ops", "", "bad"}, func(ctx context.Context) error {
			_, err := n.client.Meta(ctx, n.addr)
			return err
		}},
	}
	users := []string{"admin", "writer", "reader", "joiner", "replica", "ops", "", "bad"}
	for _, op := range ops {
		for _, u := range users {
			t.Run(op.name+"/"+u, func(t *testing.T) {
				ctx := context.Background()
				switch u {
				case "":
				case "bad":
					ctx = WithCredentials(ctx, "admin", "wrong")
				default:
					ctx = WithCredentials(ctx, u, "pw-"+u)
				}
				err := op.call(ctx)
				allowed := slices.Contains(op.allows, u)
				if allowed && err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				if !allowed && !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("err = %v, want ErrUnauthorized", err)
				}
			})
		}
	}
}

// TestProxy_LeaderRechecksForwardedCredentials forwards from a follower
// that allows everything to a leader that does not: the leader's check
// decides.
func TestProxy_LeaderRechecksForwardedCredentials(t *testing.T) {
	lnL, lnF := listen(t), listen(t)
	leaderAddr := lnL.Addr().String()
	startNode(t, lnL, "leader", &fakeLocal{leaderAddr: constant(leaderAddr)},
		func(c *Config) { c.Auth = strictAuth })
	follower := startNode(t, lnF, "follower", &fakeLocal{leaderAddr: constant(leaderAddr), executeFn: notLeader},
		func(c *Config) { c.Auth = testAuth{anyPerms: []string{"all"}} })
	tests := []struct {
		name, user, pass string
		wantErr          error
	}{
		{"allowed", "writer", "pw-writer", nil},
		{"wrong password", "writer", "nope", ErrUnauthorized},
		{"lacking", "reader", "pw-reader", ErrUnauthorized},
		{"anonymous", "", "", ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.user != "" {
				ctx = WithCredentials(ctx, tt.user, tt.pass)
			}
			_, err := follower.proxy.Execute(ctx, &store.Request{})
			if !errorsIs(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
