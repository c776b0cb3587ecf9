#!/usr/bin/env bash
# Makes sure curl (Debian package curl) is installed, so the HTTP front end's tests have a real
# HTTP client to talk to (proxy/HttpFrontEndTest, tests/HttpGroupProxyTest).
#
# Installs the package when it is missing and we are root; otherwise exits 1 with the reason (the
# tests fail on that: they must never skip silently). On success prints, one a line:
#   CURL=/usr/bin/curl
#   CURL_VERSION=<version curl reports>
set -euo pipefail

if ! command -v curl >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "ensure-curl: curl missing and not root; run: apt-get install curl" >&2
        exit 1
    fi
    echo "ensure-curl: installing curl" >&2
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp /tmp/ensure-curl-apt.XXXXXX.log)
    if ! { apt-get update -qq && apt-get install -y -qq curl; } >"$log" 2>&1; then
        echo "ensure-curl: apt-get install curl failed (log $log):" >&2
        tail -n 20 "$log" >&2 || true
        exit 1
    fi
    if ! command -v curl >/dev/null 2>&1; then
        echo "ensure-curl: curl installed but not on PATH" >&2
        exit 1
    fi
fi

# "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 ..."
version=$(curl --version | sed -n '1s/^curl \([0-9][0-9.]*\).*/\1/p')
if [ -z "$version" ]; then
    echo "ensure-curl: cannot read the version from curl --version" >&2
    exit 1
fi
echo "CURL=$(command -v curl)"
echo "CURL_VERSION=$version"
