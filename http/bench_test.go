package httpd

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rdb/rdb/db"
)

// benchBody is 100 parameterised INSERTs.
func benchBody() []byte {
	var b strings.Builder
	b.WriteString("[")
	for i := range 100 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `["INSERT INTO foo(id, name, score, data) VALUES(?, ?, ?, ?)", %d, "name-%d", %d.5, "x'deadbeef'"]`, i, i, i)
	}
	b.WriteString("]")
	return []byte(b.String())
}

func BenchmarkParseStatements(b *testing.B) {
	body := benchBody()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := parseStatements(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender_Rows(b *testing.B) {
	res := db.Result{Rows: true, Columns: []string{"id", "name", "score", "data"},
		Types: []string{"integer", "text", "real", "blob"}}
	for i := range 1000 {
		res.Values = append(res.Values, []any{int64(i), fmt.Sprintf("name-%d", i), float64(i) + 0.5, []byte{0xde, 0xad}})
	}
	for _, assoc := range []bool{false, true} {
		b.Run(fmt.Sprintf("associative=%t", assoc), func(b *testing.B) {
			r := renderer{associative: assoc, mode: renderQuery}
			for b.Loop() {
				if _, err := marshal(response{Results: r.results([]db.Result{res})}, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkService_Execute(b *testing.B) {
	f := &fakes{}
	f.db.executeFn = respond(db.Result{LastInsertID: 1, RowsAffected: 1})
	s, err := New(testConfig(), &f.db, &f.store, &f.cluster, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(b.Context())
	body := `["INSERT INTO foo(name) VALUES('fiona')"]`
	for b.Loop() {
		w := doBench(s, http.MethodPost, "/db/execute", body)
		if w != http.StatusOK {
			b.Fatalf("status %d", w)
		}
	}
}
