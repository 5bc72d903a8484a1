#!/usr/bin/env bash
# Stand-ins for the official base images, made from Debian packages where no registry
# can be pulled from:  stand_in_bases.sh PYTHON_TAG NODE_TAG
#   PYTHON_TAG  bookworm + python3, python3-venv, python-is-python3 (Python 3.11)
#   NODE_TAG    trixie + nodejs, npm (Node 20, as node:20-bookworm-slim: packages such as
#               Tailwind's oxide skip their native binding on an older Node)
# Both carry the apt sources and the apt/dpkg settings of the official Debian images
# (the suite, -updates, -security; no translations, no fsync per file, no cached .debs) so
# that `apt-get install` in the Dockerfile works on them as it does on the originals.
# A tag that podman already holds is kept: the tags name a hash of this script.
set -euo pipefail
python_tag=$1
node_tag=$2

if podman image exists "$python_tag" && podman image exists "$node_tag"; then
  exit 0
fi

# The Debian mirror this machine's apt uses (deb822 or one-line format).
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
  /etc/apt/sources.list.d/*.list 2>/dev/null | sed -n -E \
  's/^URIs:[[:space:]]*([^[:space:]]+\/debian)$/\1/p; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+\/debian)[[:space:]].*/\2/p' \
  | head -n 1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d /var/tmp/stage-bases.XXXXXX)
trap 'rm -rf "$work"' EXIT

# bootstrap SUITE DIR: a minimal Debian SUITE in DIR, set up as the official images are.
bootstrap() {
  local suite=$1 root=$2
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 \
    || { cat "$root.debootstrap.log" >&2; exit 1; }
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror}-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  echo 'force-unsafe-io' >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CLEAN
}

# make_base TAG SUITE NAME PACKAGE...: bootstrap SUITE, install the packages, import it.
make_base() {
  local tag=$1 suite=$2 dir=$work/$3
  shift 3
  bootstrap "$suite" "$dir"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  chroot "$dir" apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive chroot "$dir" apt-get install -y -q --no-install-recommends \
    "$@" >"$dir.log" 2>&1 || { cat "$dir.log" >&2; exit 1; }
  chroot "$dir" apt-get clean
  rm -rf "$dir"/var/lib/apt/lists/* "$dir/etc/resolv.conf"
  tar -C "$dir" -c . | podman import --change 'CMD ["bash"]' - "$tag" >/dev/null
}
make_base "$python_tag" bookworm python python3 python3-venv python-is-python3 ca-certificates &
python_pid=$!
make_base "$node_tag" trixie node nodejs npm ca-certificates &
node_pid=$!
wait "$python_pid"
wait "$node_pid"
echo "stand-in bases: $python_tag $node_tag"
