package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testCredentials loads internal/auth/testdata/auth.json: /readyz for
// everyone and one area each for the other users; "bob" has a
// bcrypt-hashed password ("bobpw").
func testCredentials(t *testing.T) *CredentialStore {
	t.Helper()
	cs, err := LoadCredentials("testdata/auth.json")
	if err != nil {
		t.Fatalf("LoadCredentials: %v", err)
	}
	return cs
}

func TestCredentialStore_Authorized(t *testing.T) {
	cs := testCredentials(t)
	tests := []struct {
		user, pass, perm string
		want             bool
	}{
		{"", "", "ready", true},
		{"nobody", "x", "ready", true},
		{"", "", "query", false},
		{"admin", "adminpw", "query", true},
		{"admin", "adminpw", "snapshot", true},
		{"admin", "old", "query", false}, // replaced by the later entry
		{"admin", "", "query", false},
		{"admin", "adminpw ", "query", false},
		{"reader", "readerpw", "query", true},
		{"reader", "readerpw", "execute", false},
		{"reader", "writerpw", "query", false},
		{"writer", "writerpw", "execute", true},
		{"ops", "opspw", "status", true},
		{"ops", "opspw", "join", false},
		{"replica", "replicapw", "join-read-only", true},
		{"replica", "replicapw", "join-read-replica", true},
		{"replica", "replicapw", "join", false},
		{"bob", "bobpw", "execute", true},
		{"bob", "bobpw", "execute", true}, // cached verification
		{"bob", "wrong", "execute", false},
		{"bob", "", "execute", false},
		{"*", "", "query", false},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.perm, func(t *testing.T) {
			if got := cs.Authorized(tt.user, tt.pass, tt.perm); got != tt.want {
				t.Errorf("Authorized(%q, %q, %q) = %v, want %v", tt.user, tt.pass, tt.perm, got, tt.want)
			}
		})
	}
}

func TestParseCredentials_Invalid(t *testing.T) {
	tests := []struct{ name, in string }{
		{"not json", `{nope`},
		{"object", `{"username":"a"}`},
		{"no username", `[{"password":"secretpw","perms":["all"]}]`},
		{"bad perms", `[{"username":"a","password":"secretpw","perms":"all"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCredentials(strings.NewReader(tt.in))
			if !errors.Is(err, ErrBadAuthFile) {
				t.Fatalf("err = %v, want ErrBadAuthFile", err)
			}
			if strings.Contains(err.Error(), "secretpw") {
				t.Errorf("error %q leaks the file's password", err)
			}
		})
	}
}

func ExampleCredentialStore_Authorized() {
	cs, _ := ParseCredentials(strings.NewReader(`[
		{"username": "*", "perms": ["ready"]},
		{"username": "alice", "password": "pw", "perms": ["query"]}]`))
	fmt.Println(cs.Authorized("", "", "ready"), cs.Authorized("alice", "pw", "query"), cs.Authorized("alice", "pw", "execute"))
	// Output: true true false
}

func TestCredentialStore_AuthorizedToken(t *testing.T) {
	cs, err := ParseCredentials(strings.NewReader(`[
		{"username":"app","password":"pw","token":"tok-app","perms":["query"]},
		{"username":"admin","password":"pw2","token":"tok-admin","perms":["all"]},
		{"username":"*","perms":["status"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		token, perm string
		want        bool
	}{
		{"tok-app", PermQuery, true},
		{"tok-app", PermExecute, false},
		{"tok-admin", PermExecute, true},
		{"nope", PermQuery, false},
		{"", PermQuery, false},
		{"", PermStatus, true}, // anonymous
		{"pw", PermQuery, false},
	}
	for _, c := range cases {
		if got := cs.AuthorizedToken(c.token, c.perm); got != c.want {
			t.Errorf("AuthorizedToken(%q, %q) = %v, want %v", c.token, c.perm, got, c.want)
		}
	}
	if _, err := ParseCredentials(strings.NewReader(`[{"username":"a","token":"t"},{"username":"b","token":"t"}]`)); err == nil {
		t.Error("two users with one token accepted")
	}
}
