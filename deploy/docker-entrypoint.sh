#!/bin/sh
# Container entrypoint for rdb, as rqlite's docker-entrypoint.sh: runs
# `rdb serve` with the node ID defaulting to the hostname (a StatefulSet
# pod's name: rdb-0, rdb-1, …), binding 0.0.0.0:4001 (HTTP) and
# 0.0.0.0:4002 (Raft), advertising the pod's stable DNS name
# ($(hostname -f)), and keeping its data in /rqlite/file/data. The
# container's arguments are passed on after these; a default is added only
# for a flag the arguments do not set.
#
# Environment overrides: NODE_ID, HTTP_ADDR, HTTP_ADV_ADDR, RAFT_ADDR,
# RAFT_ADV_ADDR, DATA_DIR, ENABLE_FK (true or 1 adds -fk), START_DELAY
# (seconds to wait under Kubernetes, default 5, so that the headless
# Service's DNS records exist before discovery looks them up), RDB_BIN.
# A first argument that is not a flag is run as a command instead
# (`docker run rdb:latest rdb shell -H rdb-svc`).
set -e

case "${1:-}" in
"" | -*) ;;
*) exec "$@" ;;
esac

fqdn=$(hostname -f 2>/dev/null || true)
[ -n "$fqdn" ] || fqdn=$(hostname)
NODE_ID=${NODE_ID:-$(hostname)}
HTTP_ADDR=${HTTP_ADDR:-0.0.0.0:4001}
HTTP_ADV_ADDR=${HTTP_ADV_ADDR:-$fqdn:4001}
RAFT_ADDR=${RAFT_ADDR:-0.0.0.0:4002}
RAFT_ADV_ADDR=${RAFT_ADV_ADDR:-$fqdn:4002}
DATA_DIR=${DATA_DIR:-/rqlite/file/data}

# has_flag NAME ARG…: whether -NAME or --NAME, alone or with =value, is
# among the arguments.
has_flag() {
	name=$1
	shift
	for a in "$@"; do
		case "$a" in
		-"$name" | --"$name" | -"$name"=* | --"$name"=*) return 0 ;;
		esac
	done
	return 1
}

has_flag node-id "$@" || set -- -node-id "$NODE_ID" "$@"
has_flag http-addr "$@" || set -- -http-addr "$HTTP_ADDR" "$@"
has_flag http-adv-addr "$@" || set -- -http-adv-addr "$HTTP_ADV_ADDR" "$@"
has_flag raft-addr "$@" || set -- -raft-addr "$RAFT_ADDR" "$@"
has_flag raft-adv-addr "$@" || set -- -raft-adv-addr "$RAFT_ADV_ADDR" "$@"
case "${ENABLE_FK:-}" in
true | 1) has_flag fk "$@" || set -- -fk "$@" ;;
esac

if [ -n "${KUBERNETES_SERVICE_HOST:-}" ]; then
	echo "docker-entrypoint: under Kubernetes; waiting ${START_DELAY:-5}s for DNS records" >&2
	sleep "${START_DELAY:-5}"
fi
exec "${RDB_BIN:-rdb}" serve "$@" "$DATA_DIR"
