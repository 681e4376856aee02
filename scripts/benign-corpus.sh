#!/usr/bin/env bash
# Builds the benign web-code corpus for false-positive measurement: Debian's own packages of
# popular web applications, downloaded (not installed: no services start, nothing configured)
# and unpacked under a cache directory.
#
#   scripts/benign-corpus.sh [DIR=$HOME/.cache/firewarden-corpus]   # prints DIR/tree
set -euo pipefail
dir=${1:-$HOME/.cache/firewarden-corpus}
packages=(wordpress phpmyadmin mediawiki dokuwiki roundcube-core php-horde-imp cacti zabbix-frontend-php icingaweb2 tt-rss postfixadmin phpldapadmin adminer php-phpseclib php-tcpdf php-getid3 libjs-jquery-ui php-symfony-console)
mkdir -p "$dir/debs"
if [ ! -f "$dir/tree/.complete" ]; then
  cd "$dir/debs"
  [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 || true
  for p in "${packages[@]}"; do
    apt-get download "$p" >/dev/null 2>&1 || echo "benign-corpus: package $p not available here, skipped" >&2
  done
  rm -rf "$dir/tree" && mkdir -p "$dir/tree"
  for d in *.deb; do dpkg-deb -x "$d" "$dir/tree"; done
  touch "$dir/tree/.complete"
fi
echo "$dir/tree"
