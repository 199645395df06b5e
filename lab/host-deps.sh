#!/bin/sh
# Install what lab/labctl needs on a Debian 12 host (run as root).
# Everything comes from Debian's apt; QEMU 10 itself is fetched by 'labctl build'
# into a Debian trixie root with mmdebstrap (Debian 12's QEMU 7.2 has no igb NIC).
set -eu

PACKAGES="mmdebstrap debian-archive-keyring ca-certificates e2fsprogs util-linux coreutils openssh-client python3"

if [ "$(id -u)" != 0 ]; then
    echo "host-deps.sh: run as root (apt-get install)" >&2
    exit 3
fi

export DEBIAN_FRONTEND=noninteractive
LOCK_WAIT=${NFV_DPDK_LAB_APT_LOCK_WAIT:-600}

# apt-get update takes the lists lock and does not wait for it: retry, bounded.
tries=$((LOCK_WAIT / 10))
i=0
until apt-get -o DPkg::Lock::Timeout="$LOCK_WAIT" update -qq; do
    i=$((i + 1))
    if [ "$i" -ge "$tries" ]; then
        echo "host-deps.sh: apt-get update kept failing for ${LOCK_WAIT}s" >&2
        exit 1
    fi
    echo "host-deps.sh: apt-get update failed (lock held by another apt?), retrying in 10 s" >&2
    sleep 10
done

# DPkg::Lock::Timeout makes apt-get wait (bounded) for a concurrent dpkg/apt.
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout="$LOCK_WAIT" install -y -qq --no-install-recommends $PACKAGES

echo "host-deps.sh: host ready for lab/labctl"
