#!/bin/bash
# host-setup.sh: set up on a Debian machine, as root, what a distribution
# sets up for rootless containers, and what the rootless tests need; it
# says each thing as it goes. .ci/run calls it before the tests.
#
#   - the packages: uidmap (newuidmap/newgidmap, setuid root),
#     slirp4netns and passt (pasta: a rootless container's way out),
#     fuse-overlayfs (an overlay where the kernel's can't be used);
#   - the CI user mdrootless (useradd -m), with the subordinate ranges
#     mdrootless:200000:65536 in /etc/subuid and /etc/subgid, and a
#     second one, mdrootless2 (265536:65536), the other user whose
#     containers the first's must not reach
#     (useradd gives a new user a range of its own choosing: here it is
#     told not to, and usermod adds the fixed one);
#   - /dev/fuse and /dev/net/tun mode 0666, as Debian's udev rules make
#     them (50-udev-default.rules: KERNEL=="fuse"/"tun", MODE="0666");
#     this machine starts with them readable by root only;
#   - the user's runtime directory /run/user/UID (0700, the user's), as
#     systemd-logind makes it at login: runuser does not log in.
#
# Idempotent: what is already as it should be is left alone and said so;
# a second run changes nothing. The tests find the user with
# testenv.RootlessUser (internal/testenv/rootless.go).
set -euo pipefail

user=mdrootless
range_start=200000
range_count=65536
packages=(uidmap slirp4netns passt fuse-overlayfs)

say() { echo "host-setup: $*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "host-setup: must run as root (it installs packages and adds a user)" >&2
	exit 1
fi

# Packages.
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	say "packages ${packages[*]}: installed already"
else
	say "installing ${missing[*]} (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# setup_user NAME START: the user NAME (useradd -m), its subordinate
# ranges START:range_count in /etc/subuid and /etc/subgid, and its
# runtime directory.
setup_user() {
	local user=$1 range_start=$2
	local uid gid last kind file other clash rundir
	if getent passwd "$user" >/dev/null; then
		say "user $user: exists already (uid $(id -u "$user"))"
	else
		say "adding user $user (useradd -m, shell /bin/bash, no automatic subordinate ranges)"
		useradd -m -s /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$user"
	fi
	uid=$(id -u "$user")
	gid=$(id -g "$user")

	# Its subordinate ranges.
	last=$((range_start + range_count - 1))
	for kind in uid gid; do
		file=/etc/sub$kind
		touch "$file"
		if grep -qx "$user:$range_start:$range_count" "$file"; then
			say "$file: $user:$range_start:$range_count there already"
			continue
		fi
		other=$(grep "^$user:" "$file" || true)
		if [ -n "$other" ]; then
			say "$file: $user has other ranges too, left as they are: $(echo $other)"
		fi
		clash=$(awk -F: -v u="$user" -v lo="$range_start" -v hi="$last" \
			'$1 != u && $2 <= hi && $2 + $3 - 1 >= lo { print }' "$file")
		if [ -n "$clash" ]; then
			echo "host-setup: $file: the range $range_start-$last for $user overlaps another user's: $clash" >&2
			exit 1
		fi
		say "$file: adding $user:$range_start:$range_count (usermod --add-sub${kind}s $range_start-$last)"
		usermod "--add-sub${kind}s" "$range_start-$last" "$user"
	done

	# The runtime directory (XDG_RUNTIME_DIR) that a login would make.
	rundir=/run/user/$uid
	if [ -d "$rundir" ] && [ "$(stat -c '%u:%g %a' "$rundir")" = "$uid:$gid 700" ]; then
		say "$rundir: there already ($user's, 0700)"
	else
		say "$rundir: making it ($user's, 0700, as systemd-logind does at login)"
		install -d -m 0700 -o "$uid" -g "$gid" "$rundir"
	fi
}

# Devices a rootless container needs: FUSE (fuse-overlayfs) and TUN
# (slirp4netns, pasta).
for dev in fuse:10:229 net/tun:10:200; do
	IFS=: read -r name major minor <<<"$dev"
	path=/dev/$name
	if [ ! -e "$path" ]; then
		say "$path: missing, making it (mknod c $major $minor)"
		mkdir -p "$(dirname "$path")"
		mknod -m 0666 "$path" c "$major" "$minor"
	fi
	mode=$(stat -c %a "$path")
	if [ "$mode" = 666 ]; then
		say "$path: mode 0666 already"
	else
		say "$path: mode 0$mode -> 0666 (as Debian's udev rules make it)"
		chmod 0666 "$path"
	fi
done

# The CI users: the rootless tests run as the first; the second is the
# other user whose containers the first's must not reach.
setup_user "$user" "$range_start"
setup_user "${user}2" "$((range_start + range_count))"
