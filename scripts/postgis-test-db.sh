#!/usr/bin/env bash
# Sets up a local PostgreSQL + PostGIS database for the PostGIS tests and prints its GDAL
# connection string (PG:…) on stdout. The extension itself is `postgresql-postgis` (the `postgis` package alone
# brings only its programs). Prints nothing (and says why on stderr) where it cannot:
# the PostGIS tests then skip. Needs root to install and start the server.
set -uo pipefail
say() { echo "postgis-test-db: $*" >&2; }
if [ "$(id -u)" -ne 0 ]; then say "not root: PostGIS tests skipped"; exit 0; fi
if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql postgresql-postgis postgis >/dev/null 2>&1 \
    || { say "cannot install postgresql/postgis: PostGIS tests skipped"; exit 0; }
fi
cluster=$(pg_lsclusters -h 2>/dev/null | head -n 1)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  pg_createcluster "$version" main >/dev/null 2>&1 || { say "cannot create a cluster"; exit 0; }
  cluster=$(pg_lsclusters -h | head -n 1)
fi
read -r version name port status _ <<<"$cluster"
if [ "$status" != "online" ]; then
  pg_ctlcluster "$version" "$name" start >/dev/null 2>&1 || { say "cannot start PostgreSQL $version/$name"; exit 0; }
fi
me=$(id -un)
su postgres -c "psql -p $port -tAc \"select 1 from pg_roles where rolname='$me'\"" 2>/dev/null | grep -q 1 \
  || su postgres -c "createuser -p $port -s $me" >/dev/null 2>&1
dropdb -p "$port" --if-exists klynge_test >/dev/null 2>&1
createdb -p "$port" klynge_test >/dev/null 2>&1 && psql -p "$port" -d klynge_test -qc "create extension postgis" >/dev/null 2>&1 \
  || { say "cannot create the test database"; exit 0; }
echo "PG:dbname=klynge_test host=/var/run/postgresql port=$port"
