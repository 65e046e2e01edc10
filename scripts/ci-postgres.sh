#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server for the checkpoint
# tests. It installs Debian's postgresql package when its binaries are
# missing and starts a cluster in a temporary folder that listens on
# 127.0.0.1 only. The command gets the server's URL in
# COLLM_NAS_TEST_POSTGRES_URL. When the script exits, also on a failure,
# it stops the cluster and deletes the folder.
#
# Usage: scripts/ci-postgres.sh COMMAND [ARGS...]
#   e.g. scripts/ci-postgres.sh npm test
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

# initdb refuses to run as root, so root runs the cluster as this user.
owner=postgres

find_bin() {
  find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1
}

bin="$(find_bin)"
if [ -z "$bin" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ci-postgres: PostgreSQL is not installed, and installing it needs root" >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
  bin="$(find_bin)"
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}

folder="$(mktemp -d "${TMPDIR:-/tmp}/collm-ci-pg.XXXXXX")"
if [ "$(id -u)" -eq 0 ]; then
  chown "$owner:" "$folder"
fi

stop_cluster() {
  as_owner "$bin/pg_ctl" -D "$folder/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$folder"
}
trap stop_cluster EXIT

# Asks the kernel for a free port on the loopback interface.
port="$(node -e '
  const server = require("node:net").createServer();
  server.listen(0, "127.0.0.1", () => {
    console.log(server.address().port);
    server.close();
  });
')"

as_owner "$bin/initdb" -D "$folder/data" -U collm --auth=trust --no-sync -E UTF8 >/dev/null
if ! as_owner "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" \
  -o "-h 127.0.0.1 -p $port -k $folder -c fsync=off" -w start >/dev/null; then
  echo "ci-postgres: the PostgreSQL server failed to start; its log:" >&2
  cat "$folder/server.log" >&2
  exit 1
fi

export COLLM_NAS_TEST_POSTGRES_URL="postgres://collm@127.0.0.1:$port/postgres"
echo "ci-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $COLLM_NAS_TEST_POSTGRES_URL" >&2
"$@"
