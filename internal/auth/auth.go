// Package auth is the -auth file of API.md §6: the permission names, the
// credential store loaded from the file, and the Authorizer interface
// that http (every route) and cluster (every RPC) check. It must not know
// about HTTP or the RPC channel: callers pass the username and password
// they received.
package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Permission names (API.md §6).
const (
	// PermAll grants every permission.
	PermAll       = "all"
	PermExecute   = "execute"
	PermQuery     = "query"
	PermStatus    = "status"
	PermReady     = "ready"
	PermLeaderOps = "leader-ops"
	PermRemove    = "remove"
	PermBackup    = "backup"
	PermLoad      = "load"
	PermSnapshot  = "snapshot"
	PermUI        = "ui" // the web console (/console)
	// PermJoin allows joining as a voter, and notify; it does not allow
	// joining as a non-voter (MUST-COPY).
	PermJoin = "join"
	// PermJoinReadOnly allows joining as a non-voter; PermJoinReadReplica
	// is its alias.
	PermJoinReadOnly    = "join-read-only"
	PermJoinReadReplica = "join-read-replica"
	// anonymous is the user whose permissions everyone has.
	anonymous = "*"
)

// ErrBadAuthFile rejects an auth file that is not a JSON array of
// {"username","password","perms"} objects.
var ErrBadAuthFile = errors.New("invalid auth file")

// Authorizer decides whether a caller holds a permission (API.md §6). An
// empty username means the caller sent no credentials. CredentialStore
// implements it; http and cluster take one, and a nil Authorizer means
// authentication is off. It must be safe for concurrent use.
type Authorizer interface {
	Authorized(username, password, perm string) bool
}

// CredentialStore holds the users of an -auth file. It is immutable after
// loading and safe for concurrent use.
type CredentialStore struct {
	users map[string]*authUser
	// tokens maps a user's Bearer token (the rdb-only "token" field, for
	// Hrana clients) to the username.
	tokens map[string]string
}

type authUser struct {
	password []byte
	hashed   bool // password is a bcrypt hash
	perms    map[string]bool

	// verified caches the SHA-256 of the last password that matched a
	// bcrypt hash, so each request does not pay bcrypt's cost.
	mu       sync.Mutex
	verified []byte
}

type authEntry struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Perms    []string `json:"perms"`
	// Token is an rdb-only, optional Bearer token for the user (Hrana
	// clients send "Authorization: Bearer <token>").
	Token string `json:"token,omitempty"`
}

// LoadCredentials reads an -auth file.
func LoadCredentials(path string) (*CredentialStore, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open auth file %s: %w", path, err)
	}
	defer f.Close()
	cs, err := ParseCredentials(f)
	if err != nil {
		return nil, fmt.Errorf("auth file %s: %w", path, err)
	}
	return cs, nil
}

// ParseCredentials reads the JSON array of an -auth file. A repeated
// username replaces the earlier entry. Passwords are plain text or bcrypt
// hashes ($2a$, $2b$, $2y$).
func ParseCredentials(r io.Reader) (*CredentialStore, error) {
	var entries []authEntry
	dec := json.NewDecoder(io.LimitReader(r, 16<<20))
	if err := dec.Decode(&entries); err != nil {
		// The decoder's message may quote file content: keep it out.
		return nil, fmt.Errorf("%w: not a JSON array of users", ErrBadAuthFile)
	}
	cs := &CredentialStore{users: make(map[string]*authUser, len(entries)), tokens: map[string]string{}}
	for i, e := range entries {
		if e.Username == "" {
			return nil, fmt.Errorf("%w: entry %d has no username", ErrBadAuthFile, i)
		}
		u := &authUser{password: []byte(e.Password), perms: make(map[string]bool, len(e.Perms))}
		u.hashed = isBcrypt(e.Password)
		for _, p := range e.Perms {
			p = strings.ToLower(strings.TrimSpace(p))
			if p == PermJoinReadReplica {
				p = PermJoinReadOnly
			}
			u.perms[p] = true
		}
		cs.users[e.Username] = u
		if e.Token != "" {
			if other, dup := cs.tokens[e.Token]; dup && other != e.Username {
				return nil, fmt.Errorf("%w: users %q and %q have the same token", ErrBadAuthFile, other, e.Username)
			}
			cs.tokens[e.Token] = e.Username
		}
	}
	return cs, nil
}

func isBcrypt(s string) bool {
	if _, err := bcrypt.Cost([]byte(s)); err != nil {
		return false
	}
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// Authorized reports whether perm is granted: to everyone by the "*"
// user, or to username if the password matches and the user holds perm
// or "all".
func (cs *CredentialStore) Authorized(username, password, perm string) bool {
	if cs == nil {
		return true
	}
	if perm == PermJoinReadReplica {
		perm = PermJoinReadOnly
	}
	if cs.has(anonymous, perm) {
		return true
	}
	if username == "" || username == anonymous {
		return false
	}
	return cs.check(username, password) && cs.has(username, perm)
}

// AuthorizedToken is Authorized for a Bearer token: perm is granted to
// everyone by the "*" user, or to the user whose "token" is token (in
// constant time per user) if that user holds perm or "all".
func (cs *CredentialStore) AuthorizedToken(token, perm string) bool {
	if cs == nil {
		return true
	}
	if perm == PermJoinReadReplica {
		perm = PermJoinReadOnly
	}
	if cs.has(anonymous, perm) {
		return true
	}
	if token == "" {
		return false
	}
	found := ""
	for t, user := range cs.tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			found = user
		}
	}
	return found != "" && cs.has(found, perm)
}

func (cs *CredentialStore) has(username, perm string) bool {
	u, ok := cs.users[username]
	return ok && (u.perms[perm] || u.perms[PermAll])
}

// check verifies username's password in constant time.
func (cs *CredentialStore) check(username, password string) bool {
	u, ok := cs.users[username]
	if !ok {
		return false
	}
	if !u.hashed {
		return subtle.ConstantTimeCompare([]byte(password), u.password) == 1
	}
	sum := sha256.Sum256([]byte(password))
	u.mu.Lock()
	cached := u.verified
	u.mu.Unlock()
	if cached != nil && subtle.ConstantTimeCompare(sum[:], cached) == 1 {
		return true
	}
	if bcrypt.CompareHashAndPassword(u.password, []byte(password)) != nil {
		return false
	}
	u.mu.Lock()
	u.verified = bytes.Clone(sum[:])
	u.mu.Unlock()
	return true
}

// Password returns username's password as written in the auth file (for
// -join-as); ok is false for an unknown user or a bcrypt hash, which
// cannot be sent.
func (cs *CredentialStore) Password(username string) (password string, ok bool) {
	u, found := cs.users[username]
	if !found || u.hashed {
		return "", false
	}
	return string(u.password), true
}
