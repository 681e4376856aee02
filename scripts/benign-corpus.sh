#!/usr/bin/env bash
# Builds the benign web-code corpus for false-positive measurement: Debian's own packages of
# popular web applications, downloaded (not installed: no services start, nothing configured)
# and unpacked under a cache directory.
#
#   scripts/benign-corpus.sh [DIR=$HOME/.cache/firewarden-corpus]   # prints DIR/tree
set -euo pipefail
dir=${1:-$HOME/.cache/firewarden-corpus}
packages=(wordpress phpmyadmin mediawiki dokuwiki roundcube-core php-horde-imp cacti zabbix-frontend-php icingaweb2 tt-rss postfixadmin phpldapadmin adminer php-phpseclib php-tcpdf php-getid3 libjs-jquery-ui php-symfony-console
  tomcat10-examples tomcat10-admin libjetty9-extra-java asp.net-examples mono-xsp4 mono-xsp4-base monodoc-http)
mkdir -p "$dir/debs"
# The marker holds the package list, so adding a package rebuilds the tree.
if [ "$(cat "$dir/tree/.complete" 2>/dev/null)" != "${packages[*]}" ]; then
  cd "$dir/debs"
  [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 || true
  for p in "${packages[@]}"; do
    apt-get download "$p" >/dev/null 2>&1 || echo "benign-corpus: package $p not available here, skipped" >&2
  done
  rm -rf "$dir/tree" && mkdir -p "$dir/tree"
  for d in *.deb; do dpkg-deb -x "$d" "$dir/tree"; done
  echo "${packages[*]}" > "$dir/tree/.complete"
fi
echo "$dir/tree"
