#!/usr/bin/env bash
# Makes sure libcoap's CoAP client and server (Debian package libcoap3-bin) are installed, so the
# interop tests have an independent CoAP implementation to talk to. Debian 12's libcoap3-bin
# (4.3.1) has no plain coap-client / coap-server: its binaries are coap-{client,server}-{notls,
# gnutls,openssl}. The tests need no (D)TLS and use the -notls builds.
#
# Installs the package when it is missing and we are root; otherwise exits 1 with the reason (the
# tests fail on that: they must never skip silently). On success prints, one a line:
#   COAP_CLIENT=/usr/bin/coap-client-notls
#   COAP_SERVER=/usr/bin/coap-server-notls
#   LIBCOAP_VERSION=<version the binaries report>   LIBCOAP_PACKAGE=<dpkg version>
set -euo pipefail

CLIENT=coap-client-notls
SERVER=coap-server-notls

have_all() {
    command -v "$CLIENT" >/dev/null 2>&1 && command -v "$SERVER" >/dev/null 2>&1
}

if ! have_all; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "ensure-libcoap: $CLIENT/$SERVER missing and not root; run: apt-get install libcoap3-bin" >&2
        exit 1
    fi
    echo "ensure-libcoap: installing libcoap3-bin" >&2
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp /tmp/ensure-libcoap-apt.XXXXXX.log)
    if ! { apt-get update -qq && apt-get install -y -qq libcoap3-bin; } >"$log" 2>&1; then
        echo "ensure-libcoap: apt-get install libcoap3-bin failed (log $log):" >&2
        tail -n 20 "$log" >&2 || true
        exit 1
    fi
    if ! have_all; then
        echo "ensure-libcoap: libcoap3-bin installed but $CLIENT/$SERVER are not on PATH" >&2
        exit 1
    fi
fi

# the usage text (printed for a bare -h, which wants an argument) names the version: "... v4.3.1 -- ..."
usage=$("$CLIENT" -h 2>&1 || true)
version=$(printf '%s\n' "$usage" | sed -n 's/^[^ ]* v\([0-9][0-9.a-z-]*\) .*/\1/p' | head -n 1)
if [ -z "$version" ]; then
    echo "ensure-libcoap: cannot read the version from $CLIENT -h" >&2
    exit 1
fi
echo "COAP_CLIENT=$(command -v "$CLIENT")"
echo "COAP_SERVER=$(command -v "$SERVER")"
echo "LIBCOAP_VERSION=$version"
# the OpenSSL builds of the same package, for coaps+tcp (CoAP over TLS, RFC 8323): named only if
# their usage text says they have TLS
for tool in client server; do
    bin=$(command -v "coap-$tool-openssl" 2>/dev/null || true)
    tls_usage=""
    if [ -n "$bin" ]; then tls_usage=$("$bin" -h 2>&1 || true); fi
    if [ -n "$bin" ] && printf '%s\n' "$tls_usage" | grep -q "TLS support"; then
        echo "COAP_$(echo "$tool" | tr a-z A-Z)_TLS=$bin"
    fi
done
echo "LIBCOAP_PACKAGE=$(dpkg-query -W -f='${Version}' libcoap3-bin 2>/dev/null || echo unknown)"
