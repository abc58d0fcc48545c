#!/usr/bin/env bash
# Installs the Debian package on this machine as an operator would (dpkg), runs the service the
# way its systemd unit does (its user, its settings file, its working directory: the unit's own
# command line, since systemd does not run here), opens setup with the printed link, signs in,
# then removes and purges the package and checks that nothing of it is left but its data.
#
#   packaging/test-package.sh target/deb/gatehouse_<version>_<arch>.deb
set -euo pipefail
deb=$1
fail() { printf '\033[1;31mpackage test:\033[0m %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (dpkg)"
if dpkg -s gatehouse >/dev/null 2>&1; then fail "gatehouse is installed here already; not touching it"; fi
if [ -e /var/lib/gatehouse ] && [ -n "$(ls -A /var/lib/gatehouse)" ]; then
    fail "/var/lib/gatehouse holds data; not touching it"
fi
work=$(mktemp -d)
server=
# Runs on every exit, a failed check's too: nothing here may stop it before the purge (under
# `set -e`, the killed server's status from `wait` would).
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    dpkg --purge gatehouse >/dev/null 2>&1 || true
    rm -rf /var/lib/gatehouse "$work"
}
trap cleanup EXIT

dpkg -i "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "dpkg -i failed"; }
[ -x /usr/bin/gatehouse ] && [ -x /usr/bin/gatehouse-sim ] || fail "the binaries are not installed"
getent passwd gatehouse >/dev/null || fail "no gatehouse system user"
[ "$(stat -c '%U:%G %a' /var/lib/gatehouse)" = "gatehouse:gatehouse 750" ] || fail "/var/lib/gatehouse: $(stat -c '%U:%G %a' /var/lib/gatehouse)"
[ "$(stat -c '%U:%G %a' /etc/gatehouse/gatehouse.env)" = "root:gatehouse 640" ] || fail "the settings file's owner or mode"
[ -f /usr/share/gatehouse/site/bundle.txt ] || fail "the site is not installed"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /lib/systemd/system/gatehouse.service 2>"$work/verify.log" \
        || { cat "$work/verify.log"; fail "systemd-analyze verify refused the unit"; }
fi
# The unit's command line: User=gatehouse, EnvironmentFile=, WorkingDirectory=, ExecStart=.
grep -q '^ExecStart=/usr/bin/gatehouse serve$' /lib/systemd/system/gatehouse.service || fail "ExecStart changed; update this test"
# The package's binary has no demo fleet built in, and says so rather than starting without it.
if (cd /var/lib/gatehouse && runuser -u gatehouse -- env -i PATH=/usr/bin:/bin \
        timeout 20 /usr/bin/gatehouse serve --demo) >"$work/demo.log" 2>&1; then
    fail "serve --demo ran from the package"
fi
grep -q 'the demo fleet is not built into this gatehouse' "$work/demo.log" \
    || { cat "$work/demo.log"; fail "serve --demo did not say the demo is not built in"; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mapfile -t settings < <(grep -E '^[A-Z_]+=' /etc/gatehouse/gatehouse.env)
(cd /var/lib/gatehouse && exec runuser -u gatehouse -- env -i PATH=/usr/bin:/bin "${settings[@]}" \
    GATEHOUSE_LISTEN=127.0.0.1:$port /usr/bin/gatehouse serve) 2>"$work/serve.log" &
server=$!
base=http://127.0.0.1:$port
for _ in $(seq 1 120); do
    curl -fsS "$base/readyz" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; fail "the service stopped"; }
    sleep 0.5
done
curl -fsS "$base/readyz" >/dev/null || { cat "$work/serve.log"; fail "not ready within 60 s"; }
link=$(grep -o 'http[^ ]*/setup?token=[A-Za-z0-9_-]*' "$work/serve.log" | head -1)
[ -n "$link" ] || { cat "$work/serve.log"; fail "no setup link printed"; }
token=${link##*token=}
jar=$work/cookies
status=$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" -H "Origin: $base" -H 'Accept: application/json' \
    --data-urlencode "token=$token" --data-urlencode username=admin \
    --data-urlencode 'password=package test passphrase' --data-urlencode 'confirm=package test passphrase' \
    "$base/api/fn/setup")
[ "$status" = 200 ] || fail "setup answered $status"
jar2=$work/cookies2
status=$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar2" -b "$jar2" -H "Origin: $base" -H 'Content-Type: application/json' \
    -d '{"username": "admin", "password": "package test passphrase"}' "$base/api/v1/session")
[ "$status" = 200 ] || fail "signing in answered $status"
status=$(curl -sS -o /dev/null -w '%{http_code}' -b "$jar2" "$base/api/v1/users")
[ "$status" = 200 ] || fail "the user list answered $status after signing in"
page=$(curl -sS -b "$jar2" "$base/")
bundle=/pkg/$(cat /usr/share/gatehouse/site/bundle.txt)
grep -q "$bundle/gatehouse\.js" <<<"$page" || fail "the console page does not load the installed bundle"
# The dashboard's group of pages is preloaded with it, and served from the installed site.
module=$(grep -oE "$bundle/split_fleet_page_[0-9]+\.wasm" <<<"$page" | head -1)
[ -n "$module" ] || fail "the console page does not name its page group's module"
status=$(curl -sS -o /dev/null -w '%{http_code}' "$base$module")
[ "$status" = 200 ] || fail "the page group's module answered $status"
kill "$server"; wait "$server" 2>/dev/null || true; server=

dpkg -r gatehouse >/dev/null
[ ! -e /usr/bin/gatehouse ] || fail "/usr/bin/gatehouse is left after removal"
[ -f /etc/gatehouse/gatehouse.env ] || fail "removal (not purge) must keep the settings"
dpkg --purge gatehouse >/dev/null
[ ! -e /etc/gatehouse/gatehouse.env ] || fail "the settings are left after purge"
! getent passwd gatehouse >/dev/null || fail "the gatehouse user is left after purge"
[ -z "$(dpkg -L gatehouse 2>/dev/null)" ] || fail "dpkg still lists files"
echo "package test: installed, served, signed in, removed and purged: passed"
