// Package disco lets nodes find each other and form or join a cluster
// without -join addresses (rqlite's -disco-mode; OPS.md §1):
//
//   - dns and dns-srv: each boot tick, the node looks up its peers' Raft
//     addresses (A/AAAA records of a name, or SRV records), tries to join
//     them, and failing that notifies them that it is a voter; every node's
//     cluster.Service bootstraps once it has heard of -bootstrap-expect
//     voters (Booter).
//   - etcd-kv and consul-kv: the leader keeps a leader record under
//     <disco-key>/leader in the key-value store (Reporter); a new node
//     joins the node the record names, and when there is no record the
//     first voter to create it (create-only write) bootstraps a cluster of
//     itself (Registrar).
//
// Discovery runs on every start and does nothing for a node that already
// has Raft state: such a node finds its cluster from that state.
//
// Wire choice. etcd and Consul are reached over their plain HTTP APIs
// (etcd's v3 JSON gateway: /v3/kv/range, /v3/kv/put, /v3/kv/txn,
// /v3/auth/authenticate; Consul's /v1/kv/<key> with ?cas=0), with net/http
// and encoding/json, not with go.etcd.io/etcd/client/v3 and
// github.com/hashicorp/consul/api. Measured on this code base (CGO_ENABLED=0,
// go1.26): importing both clients grows the rdb binary from 22.8 MB to
// 36.4 MB (+60 %), adds about 30 modules (grpc, protobuf, grpc-gateway,
// zap, gogo/protobuf, serf, …; go.sum 275 → 361 lines) and forces newer
// versions of modules rdb already uses (go-hclog, x/crypto, x/net, x/text)
// and of the go directive; this package, clients included, adds 0.17 MB
// (22.8 → 23.0 MB). Discovery needs four requests: read a key,
// write a key, create it only if absent, and log in. Those are small,
// documented and stable in both products, so the clients' weight buys
// nothing here.
//
// disco does not read flags or environment variables: cmd/rdb reads the
// -disco-* flags, and passes the environment lookups (RQLITE_DISCO_DNS_HOSTS,
// CONSUL_HTTP_*) in as a function. It must not import hashicorp/raft, http
// or cmd/rdb; it reaches the local store through the Node interface and
// other nodes through the Cluster interface (cluster.Client).
package disco
