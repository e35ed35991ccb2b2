#!/usr/bin/env bash
# Makes sure the programs the end-to-end tests drive are installed: HAProxy, Chromium, tinyproxy,
# openssl, certutil (to make Chromium trust the test CA), GDAL's ogr2ogr and gdal_translate (to
# write the real GIS files the tile and import tests read), PostgreSQL 15's server programs and psql
# (the PostgreSQL store's tests start a throwaway cluster as the `postgres` user). Installs them with apt when it can (root +
# apt-get); otherwise stops at once naming them. Node.js (for the benchmark's Node baselines) is
# not installed here: the README's commands already need it.
set -euo pipefail
declare -A package_of=(
  [haproxy]=haproxy
  [chromium]=chromium
  [tinyproxy]=tinyproxy
  [openssl]=openssl
  [certutil]=libnss3-tools
  [ogr2ogr]=gdal-bin
  [gdal_translate]=gdal-bin
  [psql]=postgresql
  [/usr/lib/postgresql/15/bin/initdb]=postgresql
)
missing=()
if ! command -v node >/dev/null 2>&1; then
  echo "The tests need Node.js (node), for the benchmark's Node ws and Socket.IO baselines; install it and run the tests again." >&2
  exit 1
fi
for cmd in haproxy chromium tinyproxy openssl certutil ogr2ogr gdal_translate psql \
  /usr/lib/postgresql/15/bin/initdb; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/usr/bin/$cmd" ]; then
    pkg="${package_of[$cmd]}"
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing test dependencies with apt: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  # Debian starts packaged daemons; the tests run their own instances on free ports.
  for svc in haproxy tinyproxy postgresql; do
    if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
  done
  exit 0
fi
echo "The tests need these programs, which are missing: ${missing[*]}." >&2
echo "Install them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]}) and run the tests again." >&2
exit 1
