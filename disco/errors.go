package disco

import "errors"

var (
	// ErrBootTimeout means dns/dns-srv discovery did not form or find a
	// cluster within -bootstrap-expect-timeout; cmd/rdb reports it as
	// "clustering failure: boot timeout", as rqlite does.
	ErrBootTimeout = errors.New("boot timeout")
	// ErrConsulAddressScheme rejects a Consul address given with a scheme
	// (the scheme goes in "scheme").
	ErrConsulAddressScheme = errors.New("address should not contain HTTP or HTTPS")
	// ErrInvalidHostsOverride is a RQLITE_DISCO_DNS_HOSTS item that is not
	// host:port.
	ErrInvalidHostsOverride = errors.New("RQLITE_DISCO_DNS_HOSTS: invalid address")
	// ErrNoAddresses is a lookup that found no peer address.
	ErrNoAddresses = errors.New("no addresses found")
	// ErrKVUnavailable is a key-value store that could not be reached or
	// answered with an error.
	ErrKVUnavailable = errors.New("key-value store unavailable")
)
