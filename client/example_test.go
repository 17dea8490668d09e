package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/rdb/rdb/client"
)

// Example writes through the Raft log and reads back with a strong read.
// nodeAddr is a node's HTTP address such as "localhost:4001"; more
// addresses in Addrs are fail-over alternates.
func Example() {
	c, err := client.New(client.Config{Addrs: []string{nodeAddr}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	resp, err := c.Execute(ctx, []client.Statement{
		client.SQL("DROP TABLE IF EXISTS pets"),
		client.SQL("CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)"),
		client.SQL("INSERT INTO pets(name, age) VALUES(?, ?)", "fido", 3),
	}, nil)
	if err != nil {
		log.Fatal(err) // the request failed: node unreachable, 401, …
	}
	if err := resp.Err(); err != nil {
		log.Fatal(err) // a statement failed
	}
	fmt.Println("inserted row", resp.Results[2].LastInsertID)

	resp, err = c.Query(ctx, []client.Statement{client.SQL("SELECT name, age FROM pets WHERE age > ?", 2)},
		&client.Options{Level: client.LevelStrong})
	if err != nil {
		log.Fatal(err)
	}
	rows := resp.Results[0]
	fmt.Println(rows.Columns)
	for _, row := range rows.Values {
		fmt.Println(row...)
	}
	// Output:
	// inserted row 1
	// [name age]
	// fido 3
}
