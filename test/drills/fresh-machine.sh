#!/usr/bin/env bash
# The README's two commands on a machine taken back to what a new one has: no Docker
# engine, none of the Debian packages the harness installs, no images, no caches, and a
# fresh clone of this commit. Prints how long each took:
#
#   1. npm ci && npm run repro -- run     (the first run: installs, compiles BuildKit)
#   2. npm test
#   3. npm run repro -- run               (again: everything in place)
#
# DESTRUCTIVE for everyone on the machine while it runs: it stops the harness's dockerd,
# purges docker.io, containerd, runc, busybox-static and docker-registry, and moves
# /var/lib/docker and /var/lib/containerd aside (restored at the end unless --keep). Caches
# are not deleted: the drill points Go, npm, tsx and the harness at empty folders of its
# own (GOCACHE, GOMODCACHE, npm_config_cache, TMPDIR, BUILDKIT_REPRO_CACHE).
#
#   test/drills/fresh-machine.sh --dry-run     print what it would do, change nothing
#   test/drills/fresh-machine.sh --yes         do it (root, Debian/Ubuntu)
#   test/drills/fresh-machine.sh --yes --keep  and leave the fresh engine's state in place
set -euo pipefail

mode=""
keep=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) mode=dry-run ;;
    --yes) mode=real ;;
    --keep) keep=1 ;;
    *) mode=usage ;;
  esac
done
if [ "$mode" != dry-run ] && [ "$mode" != real ]; then
  echo "usage: test/drills/fresh-machine.sh --dry-run | --yes [--keep]   (read the header first: --yes is destructive)" >&2
  exit 2
fi

run() {
  if [ "$mode" = dry-run ]; then
    echo "would run: $*"
  else
    "$@"
  fi
}

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
commit=$(git -C "$repo" rev-parse HEAD)
packages=(docker.io containerd runc busybox-static docker-registry)
state_dirs=(/var/lib/docker /var/lib/containerd)
dockerd_pidfile=/run/buildkit-repro-dockerd.pid
stamp=$(date +%Y%m%d-%H%M%S)

if [ "$mode" = real ]; then
  [ "$(id -u)" = 0 ] || { echo "the drill must run as root" >&2; exit 1; }
  [ -f /etc/debian_version ] || { echo "the drill is for Debian/Ubuntu machines" >&2; exit 1; }
fi

work=$(mktemp -d /tmp/buildkit-repro-fresh-XXXXXX)
# Readable by everyone, like a checkout in a home folder: a test runs the CLI as nobody.
chmod 755 "$work"
if [ "$mode" = dry-run ]; then trap 'rm -rf "$work"' EXIT; fi
echo "== fresh-machine drill of $commit in $work"

# 1. No engine: the dockerd the harness started, and then nothing may answer on the default socket.
if [ -f "$dockerd_pidfile" ]; then
  pid=$(tr -dc '0-9' <"$dockerd_pidfile")
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
    echo "== stopping the dockerd the harness started (pid $pid)"
    run kill -TERM "$pid"
    if [ "$mode" = real ]; then
      for _ in $(seq 1 60); do
        [ -d "/proc/$pid" ] || break
        sleep 1
      done
    fi
  fi
  run rm -f "$dockerd_pidfile"
fi
if [ "$mode" = real ] && env -u DOCKER_HOST docker version >/dev/null 2>&1; then
  echo "a Docker engine still answers on /var/run/docker.sock (not one the harness started): stop it, then run the drill again" >&2
  exit 1
fi

# 2. No packages: purge those the harness installs and the runtime docker.io brought with it.
installed=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ]; then installed+=("$p"); fi
done
if [ "${#installed[@]}" -gt 0 ]; then
  echo "== purging ${installed[*]}"
  # The engine's state goes aside first, so that no package script can delete it.
  for d in "${state_dirs[@]}"; do
    if [ -e "$d" ]; then run mv "$d" "$d.before-drill-$stamp"; fi
  done
  run env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=300 "${installed[@]}"
else
  for d in "${state_dirs[@]}"; do
    if [ -e "$d" ]; then run mv "$d" "$d.before-drill-$stamp"; fi
  done
fi
run rm -f /run/buildkit-repro-dockerd.lock /var/run/docker.sock
# Temporary rootfs folders of earlier runs (the harness would sweep dead owners' ones anyway).
run find /tmp -maxdepth 1 -name 'buildkit-repro-rootfs-*' -exec rm -rf {} +

# 3. A fresh clone, and empty caches.
run git clone --quiet "$repo" "$work/repo"
run git -C "$work/repo" checkout --quiet "$commit"
mkdir -p "$work/cache" "$work/tmp"
fresh_env=(
  env -u XDG_CACHE_HOME -u GOPATH
  GOCACHE="$work/cache/go-build" GOMODCACHE="$work/cache/go-mod"
  npm_config_cache="$work/cache/npm" BUILDKIT_REPRO_CACHE="$work/cache/buildkit-repro"
  TMPDIR="$work/tmp"
)

results=()
# Runs a step in the clone with the fresh environment, timing it; a failure is recorded, not fatal.
step() {
  local name=$1 command=$2 log start end rc
  log="$work/$(tr -cs 'a-z0-9' '-' <<<"$name" | sed 's/-*$//').log"
  echo "== $name: $command (log: $log)"
  if [ "$mode" = dry-run ]; then
    echo "would run in $work/repo: ${fresh_env[*]} bash -c '$command'"
    return 0
  fi
  start=$(date +%s.%N)
  set +e
  (cd "$work/repo" && "${fresh_env[@]}" bash -c "$command") 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  end=$(date +%s.%N)
  results+=("$(awk -v n="$name" -v s="$start" -v e="$end" -v r="$rc" 'BEGIN { printf "%-40s %8.1f s   exit %s", n, e - s, r }')")
}

step "first npm ci && npm run repro -- run" "npm ci && npm run repro -- run"
step "first npm test" "npm test"
step "second npm run repro -- run" "npm run repro -- run"

if [ "$mode" = real ] && [ "$keep" = 0 ]; then
  echo "== restoring the engine state from before the drill (--keep skips this)"
  if [ -f "$dockerd_pidfile" ]; then
    pid=$(tr -dc '0-9' <"$dockerd_pidfile")
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
      kill -TERM "$pid"
      for _ in $(seq 1 60); do
        [ -d "/proc/$pid" ] || break
        sleep 1
      done
    fi
    rm -f "$dockerd_pidfile"
  fi
  for d in "${state_dirs[@]}"; do
    if [ -e "$d.before-drill-$stamp" ]; then
      rm -rf "$d"
      mv "$d.before-drill-$stamp" "$d"
    fi
  done
fi

echo
echo "== fresh-machine drill of $commit ($(nproc) cores, $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"'), node $(node --version))"
if [ "$mode" = real ]; then
  printf '%s\n' "${results[@]}"
  echo "logs and caches: $work"
fi
