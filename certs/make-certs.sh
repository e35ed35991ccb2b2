#!/bin/sh
# Makes a local certificate authority and a server certificate signed by it, for HAProxy's TLS.
#
# Why a CA and not one self-signed certificate: Deno's TLS client (rustls) rejects a self-signed
# certificate that is its own CA ("CaUsedAsEndEntity"), and a browser that trusts one local CA
# then trusts every server certificate made here, so it is added to a trust store once.
#
# The CA is name-constrained (a critical nameConstraints extension) to the names and IPs it was
# made for, so a machine that trusts it trusts it for those names only, not for every site.
#
# Usage: certs/make-certs.sh [--out DIR] [--ca-dir DIR] [--days N] [--new-ca] [NAME|IP]...
#   NAME|IP   every DNS name and IP address the server is reached by; the first one is also the
#             certificate's common name. A new CA is constrained to exactly these (a DNS name
#             also covers its subdomains). Default: localhost 127.0.0.1 ::1
#   --out     output directory for the server's files (default: certs/out next to this script;
#             it is gitignored)
#   --ca-dir  the CA's directory (default: certs/ca next to this script; gitignored). Keep it
#             off the server: only the files in --out are deployed.
#   --days    server certificate lifetime in days (default 397, the most browsers accept)
#   --new-ca  replace an existing CA. Without it an existing ca.pem + ca-key.pem is reused, because
#             replacing it silently would break every browser and machine that already trusts it.
#
# Writes into the CA directory:
#   ca.pem          the CA certificate: give this to clients / browsers to trust
#   ca-key.pem      the CA private key (0600): it can sign certificates for the CA's names
# and into the output directory:
#   ca.pem          a copy of the CA certificate (public; for clients on the server itself)
#   server.pem      the server certificate
#   server-key.pem  the server private key (0600)
#   haproxy.pem     server certificate followed by its key: what HAProxy's `crt` option reads
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
out="$here/out"
ca_dir="$here/ca"
days=397
new_ca=0
names=""

usage() {
  sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || { echo "make-certs: --out needs a directory" >&2; exit 2; }; out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    --ca-dir) [ $# -ge 2 ] || { echo "make-certs: --ca-dir needs a directory" >&2; exit 2; }; ca_dir="$2"; shift 2 ;;
    --ca-dir=*) ca_dir="${1#--ca-dir=}"; shift ;;
    --days) [ $# -ge 2 ] || { echo "make-certs: --days needs a number" >&2; exit 2; }; days="$2"; shift 2 ;;
    --days=*) days="${1#--days=}"; shift ;;
    --new-ca) new_ca=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "make-certs: unknown option '$1' (try --help)" >&2; exit 2 ;;
    *) names="$names $1"; shift ;;
  esac
done
case "$days" in
  ''|*[!0-9]*) echo "make-certs: --days must be a whole number of days, received '$days'" >&2; exit 2 ;;
esac
[ -n "$names" ] || names="localhost 127.0.0.1 ::1"

command -v openssl >/dev/null 2>&1 || {
  echo "make-certs: openssl is not installed (Debian: apt-get install -y openssl)" >&2
  exit 1
}

mkdir -p "$out" "$ca_dir"
umask 077
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# subjectAltName: an entry that parses as an IPv4 or IPv6 address is an IP, anything else a name.
# Browsers ignore the common name and check only these.
san=""
cn=""
# The CA's nameConstraints: one permitted subtree per name. A type with no permitted subtree would
# be unconstrained (RFC 5280), so a CA made for names only excludes every IP, and one made for
# IPs only permits DNS names under the reserved `.invalid` domain, i.e. none.
permitted_dns=""
permitted_ip=""
for n in $names; do
  [ -n "$cn" ] || cn="$n"
  if printf '%s' "$n" | grep -Eq '^([0-9]{1,3}\.){3}[0-9]{1,3}$'; then
    entry="IP:$n"
    permitted_ip="$permitted_ip,permitted;IP:$n/255.255.255.255"
  elif printf '%s' "$n" | grep -Eq '^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$'; then
    entry="IP:$n"
    permitted_ip="$permitted_ip,permitted;IP:$n/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
  else
    entry="DNS:$n"
    permitted_dns="$permitted_dns,permitted;DNS:$n"
  fi
  san="${san:+$san,}$entry"
done
[ -n "$permitted_dns" ] || permitted_dns=",permitted;DNS:invalid"
[ -n "$permitted_ip" ] || permitted_ip=",excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:::/::"
name_constraints="critical$permitted_dns$permitted_ip"

if [ -f "$ca_dir/ca.pem" ] && [ -f "$ca_dir/ca-key.pem" ] && [ "$new_ca" -eq 0 ]; then
  echo "make-certs: reusing the existing CA $ca_dir/ca.pem (pass --new-ca to replace it)" >&2
else
  if [ -f "$ca_dir/ca.pem" ] && [ "$new_ca" -eq 0 ]; then
    echo "make-certs: $ca_dir/ca.pem exists but $ca_dir/ca-key.pem does not; refusing to replace the CA" >&2
    echo "  (pass --ca-dir to point at the CA's key, or --new-ca to make a new one; clients that" >&2
    echo "  trust the old one must then trust the new one)" >&2
    exit 1
  fi
  # A CA that may sign only end-entity certificates (pathlen:0) for its names, for ten years.
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$tmp/ca-key.pem" -out "$tmp/ca.pem" -days 3650 -sha256 \
    -subj "/O=Duplex Map local CA/CN=Duplex Map local CA $(date -u +%Y-%m-%d)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "nameConstraints=$name_constraints" \
    -addext "subjectKeyIdentifier=hash" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  mv "$tmp/ca-key.pem" "$ca_dir/ca-key.pem"
  mv "$tmp/ca.pem" "$ca_dir/ca.pem"
  chmod 600 "$ca_dir/ca-key.pem"
  chmod 644 "$ca_dir/ca.pem"
  echo "make-certs: made a new CA $ca_dir/ca.pem for $san" >&2
fi

cat >"$tmp/ext.cnf" <<CNF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
CNF

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$tmp/server-key.pem" -out "$tmp/server.csr" -subj "/CN=$cn" 2>"$tmp/err" \
  || { cat "$tmp/err" >&2; exit 1; }
openssl x509 -req -in "$tmp/server.csr" -CA "$ca_dir/ca.pem" -CAkey "$ca_dir/ca-key.pem" \
  -CAcreateserial -CAserial "$tmp/ca.srl" -out "$tmp/server.pem" -days "$days" -sha256 \
  -extfile "$tmp/ext.cnf" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
if ! openssl verify -CAfile "$ca_dir/ca.pem" "$tmp/server.pem" >"$tmp/err" 2>&1; then
  cat "$tmp/err" >&2
  echo "make-certs: the CA $ca_dir/ca.pem does not vouch for $san (it is constrained to the names" >&2
  echo "  it was made for; see 'openssl x509 -noout -ext nameConstraints -in $ca_dir/ca.pem')." >&2
  echo "  Pass --new-ca with every name to make a new CA; clients must then trust the new one." >&2
  exit 1
fi

cat "$tmp/server.pem" "$tmp/server-key.pem" >"$tmp/haproxy.pem"
mv "$tmp/server-key.pem" "$out/server-key.pem"
mv "$tmp/haproxy.pem" "$out/haproxy.pem"
mv "$tmp/server.pem" "$out/server.pem"
[ "$ca_dir/ca.pem" -ef "$out/ca.pem" ] || cp "$ca_dir/ca.pem" "$out/ca.pem"
chmod 644 "$out/ca.pem"
chmod 600 "$out/server-key.pem" "$out/haproxy.pem"
chmod 644 "$out/server.pem"
echo "make-certs: wrote $out/server.pem and $out/haproxy.pem for $san" >&2
