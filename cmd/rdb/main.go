package main

import (
	_ "github.com/hashicorp/go-msgpack/v2/codec"
	_ "github.com/hashicorp/raft"
	_ "github.com/hashicorp/raft-boltdb/v2"
	_ "github.com/labstack/echo/v4"
	_ "modernc.org/sqlite"
)

func main() {}
