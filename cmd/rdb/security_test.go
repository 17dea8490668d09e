package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestLoadSecurity(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	authFile := filepath.Join(t.TempDir(), "auth.json")
	content := `[{"username":"joiner","password":"j0in","perms":["join"]},
		{"username":"hashed","password":"` + string(hash) + `","perms":["join"]}]`
	if err := os.WriteFile(authFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, auth, joinAs string
		wantErr            string
		wantUser           string
	}{
		{"no auth", "", "", "", ""},
		{"auth without join-as", authFile, "", "", ""},
		{"join-as", authFile, "joiner", "", "joiner"},
		{"unknown join-as", authFile, "nobody", `"nobody" is not in the auth file`, ""},
		{"hashed join-as", authFile, "hashed", `"hashed" is not in the auth file`, ""},
		{"missing file", filepath.Join(t.TempDir(), "none.json"), "", "open auth file", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec, err := loadSecurity(&Config{AuthFile: tt.auth, JoinAs: tt.joinAs})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got := sec.httpAuth() != nil; got != (tt.auth != "") {
				t.Errorf("auth enabled = %v, want %v", got, tt.auth != "")
			}
			got := ""
			if sec.joinAs != nil {
				got = sec.joinAs.Username
				if sec.joinAs.Password != "j0in" {
					t.Errorf("join-as password not taken from the file")
				}
			}
			if got != tt.wantUser {
				t.Errorf("join-as user = %q, want %q", got, tt.wantUser)
			}
		})
	}
}
