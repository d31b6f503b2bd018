#!/bin/bash
# install.sh [PACKAGE...]: install, from Debian, what the engine interop
# tests drive: containerd, Podman (with conmon), Docker (docker.io), umoci,
# skopeo, runc (the control) and busybox-static; or the packages named
# (tests/cri/lane.sh names its own). Root. Only missing packages are
# installed (apt-get update first); nothing is installed otherwise.
#
# Packages must not start their services: docker.io's maintainer scripts
# would start a system dockerd (with iptables rules and a docker0 bridge).
# Where no /usr/sbin/policy-rc.d forbids that already, one is put in place
# for the install and removed afterwards.
set -euo pipefail

packages=(containerd podman conmon docker.io umoci skopeo runc busybox-static)
if [ $# -gt 0 ]; then
	packages=("$@")
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "tests/interop: installing ${missing[*]}"

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# tests/interop/install.sh: no service starts during the install\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
