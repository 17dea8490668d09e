package cluster

import "context"

// Credentials are the HTTP Basic-auth credentials of the client a request
// is made for. cluster carries them with every RPC; the serving node checks
// them.
type Credentials struct {
	Username string
	Password string
}

type ctxKey int

const (
	credentialsKey ctxKey = iota
	noForwardingKey
	forwardedKey
)

// WithCredentials returns a context whose RPCs carry these credentials.
// The HTTP layer sets the client's; Joiner and Bootstrapper set -join-as.
func WithCredentials(ctx context.Context, username, password string) context.Context {
	return context.WithValue(ctx, credentialsKey, Credentials{Username: username, Password: password})
}

// CredentialsFrom returns the credentials set with WithCredentials, or
// those an RPC arrived with (a Handler sees them this way); ok is false
// when there are none.
func CredentialsFrom(ctx context.Context) (creds Credentials, ok bool) {
	creds, ok = ctx.Value(credentialsKey).(Credentials)
	return creds, ok
}

// WithoutForwarding returns a context in which Proxy never forwards: a
// request this node cannot serve fails with store.ErrNotLeader (leader
// known, so the HTTP layer can redirect) or store.ErrLeaderNotFound.
func WithoutForwarding(ctx context.Context) context.Context {
	return context.WithValue(ctx, noForwardingKey, true)
}

func forwardingAllowed(ctx context.Context) bool {
	no, _ := ctx.Value(noForwardingKey).(bool)
	return !no
}

// withForwarded marks ctx as serving, or making, a call that was already
// forwarded once; such a call is served where it lands and never forwarded
// again, which keeps two nodes that each think the other leads from
// bouncing a request between them.
func withForwarded(ctx context.Context) context.Context {
	return context.WithValue(ctx, forwardedKey, true)
}

func isForwarded(ctx context.Context) bool {
	f, _ := ctx.Value(forwardedKey).(bool)
	return f
}

// ForwardingAllowed reports whether ctx permits forwarding to the leader
// (false after WithoutForwarding).
func ForwardingAllowed(ctx context.Context) bool { return forwardingAllowed(ctx) }
