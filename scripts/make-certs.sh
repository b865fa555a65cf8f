#!/usr/bin/env bash
# Makes what a deployment needs for TLS with openssl: a private CA, a server certificate signed by it
# (the Temporal frontend, or the API when it terminates HTTPS itself) and a client certificate (the
# API, workers and gateway present it to the Temporal frontend, which requires one: mTLS).
#
#   bash scripts/make-certs.sh <dir> [server-name ...]     (npm run certs:new -- <dir> [server-name ...])
#
# Server names become the server certificate's subject alternative names (IP addresses as IP, others as
# DNS); default: localhost 127.0.0.1. In compose the frontend is reached as `temporal`. An existing CA in
# <dir> is kept, so certificates can be renewed without redistributing it. Keys are written 0600.
# Files: ca.pem ca-key.pem server.pem server-key.pem client.pem client-key.pem
set -euo pipefail

dir=${1:?usage: make-certs.sh <dir> [server-name ...]}
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(localhost 127.0.0.1)
days=${CERT_DAYS:-825}

mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

san=""
for n in "${names[@]}"; do
  if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then san+="${san:+,}IP:$n"; else san+="${san:+,}DNS:$n"; fi
done

if [ ! -f ca.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -keyout ca-key.pem -out ca.pem -subj "/CN=sessionflow private CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

# issue <name> <extendedKeyUsage> [subjectAltName]
issue() {
  local name=$1 usage=$2 alt=${3:-}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$name-key.pem" -out "$name.csr" -subj "/CN=sessionflow $name" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$usage"
    [ -z "$alt" ] || echo "subjectAltName=$alt"
  } > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days "$days" \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

# The server's certificate is a client one too: the Temporal server's own system worker presents it.
issue server serverAuth,clientAuth "$san"
issue client clientAuth
chmod 644 ca.pem server.pem client.pem
echo "certificates in $(pwd): ca.pem, server.pem (${san}), client.pem; keys *-key.pem (0600)"
