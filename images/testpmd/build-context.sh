#!/bin/sh
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Collect a FROM scratch build context for the nfv.dpdk testpmd image from this machine's
# Debian packages (dpdk, librte-net-*, coreutils, dash): dpdk-testpmd, timeout, date, sleep, dash
# as /bin/sh, their shared-library closure with symlinks kept, libgcc_s, the whole PMD
# plugin directory and the closure of every PMD in it, and the launcher.
#
#   build-context.sh CONTEXT_DIR [PMD_DIR]
#
# CONTEXT_DIR gets rootfs/ and Containerfile; build it with
#   podman build --network=none -t localhost/nfv-dpdk-testpmd:latest CONTEXT_DIR
#
# The launcher and the Containerfile are read from this script's directory. The dpdk_testpmd
# role sends only this script (sh -c, one round trip to the node): with TESTPMD_LAUNCHER_STDIN=1
# the launcher is read from standard input, and the Containerfile goes to podman_image as
# container_file.
set -eu
if [ "${TESTPMD_LAUNCHER_STDIN:-}" = 1 ]; then
    # Read before anything else can touch standard input; $(...) drops the trailing newline.
    launcher=$(cat)
    [ -n "$launcher" ] || { echo "TESTPMD_LAUNCHER_STDIN=1 but standard input is empty" >&2; exit 1; }
fi

context=${1:?usage: build-context.sh CONTEXT_DIR [PMD_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
testpmd=$(command -v dpdk-testpmd) || { echo "dpdk-testpmd not found: install the dpdk package" >&2; exit 1; }
libdir=$(dirname "$(ldd "$testpmd" | awk '/librte_eal\.so/ {print $3; exit}')")
pmd_dir=${2:-}
if [ -z "$pmd_dir" ]; then
    for dir in "$libdir"/dpdk/pmds-*; do
        [ -d "$dir" ] && pmd_dir=$dir && break
    done
fi
[ -d "$pmd_dir" ] || { echo "no DPDK PMD directory under $libdir/dpdk" >&2; exit 1; }

rootfs=$context/rootfs
# A new build directory is private to root (the context holds the node's DPDK libraries); existing ones keep their mode.
(umask 077 && mkdir -p "$context")
rm -rf "$rootfs"
mkdir -p "$rootfs/usr/bin" "$rootfs/usr/local/bin" "$rootfs/tmp" "$rootfs/run" "$rootfs/dev" "$rootfs/proc" \
    "$rootfs/sys" "$rootfs/etc"
chmod 1777 "$rootfs/tmp"
mkdir -p "$rootfs/var" && ln -sfn ../run "$rootfs/var/run"
# Keep the host's merged-/usr layout (Debian 12: /lib -> usr/lib, /bin -> usr/bin).
for top in bin sbin lib lib64; do
    if [ -L "/$top" ]; then ln -sfn "$(readlink "/$top")" "$rootfs/$top"; fi
done

# ldd's closure of the given files (one ldd run for all of them: under emulation, as on the lab
# node, each process start costs tens of milliseconds and there are hundreds of files).
# ldd's output -> the library paths it names ("file:" headers of a multi-file run skipped).
ldd_paths() {
    awk '/:$/ {next} $2 == "=>" && $3 ~ /^\// {print $3; next} $1 ~ /^\// {print $1}'
}
closure() {
    ldd "$@" 2>/dev/null | ldd_paths
}

# stdbuf (with its preload library) makes testpmd's stdout line-buffered, so that log
# timestamps (podman logs -t) tell when each line was printed.
# sleep paces the launcher's hugepage samples while testpmd runs.
binaries="$testpmd $(command -v timeout) $(command -v date) $(command -v dash) $(command -v stdbuf) $(command -v sleep)"
list=$context/files.txt
# shellcheck disable=SC2086 # word splitting of the program paths is intended
printf '%s\n' $binaries > "$list"
# shellcheck disable=SC2086
closure $binaries >> "$list"
for gcc in "$libdir"/libgcc_s.so.1 /lib/x86_64-linux-gnu/libgcc_s.so.1; do
    [ -e "$gcc" ] && echo "$gcc" >> "$list" && break
done
# Every PMD is dlopen()ed by EAL at start-up: a missing dependency of any of them
# makes EAL init fail, so the whole directory goes in with each one's closure.
# Each library once: the .so and .so.N names are symlinks to the .so.N.M file.
find "$pmd_dir" -mindepth 1 -maxdepth 1 -print >> "$list"
find "$pmd_dir" -mindepth 1 -maxdepth 1 ! -type l -print0 | xargs -0 -r ldd 2>/dev/null | ldd_paths >> "$list"
for preload in /usr/libexec/coreutils/libstdbuf.so /usr/lib/coreutils/libstdbuf.so; do
    [ -e "$preload" ] && echo "$preload" >> "$list" && closure "$preload" >> "$list" && break
done

# Each path goes in as it is (a symlink stays a symlink) under its directory's real location,
# then whatever a symlink points to, until regular files are reached. Directories are resolved
# once each and files copied by one tar, not a handful of processes per file.
physical() {
    # path list in $1 -> the same paths with their directory resolved (pwd -P), sorted, unique
    awk '{ n = split($0, part, "/"); dir = substr($0, 1, length($0) - length(part[n]) - 1); if (dir == "") dir = "/"; print dir }' "$1" |
        sort -u > "$context/dirs.txt"
    : > "$context/dirmap.txt"
    while read -r dir; do
        printf '%s\t%s\n' "$dir" "$(cd "$dir" && pwd -P)" >> "$context/dirmap.txt"
    done < "$context/dirs.txt"
    awk -F '\t' 'NR == FNR { real[$1] = $2; next }
        { n = split($0, part, "/"); dir = substr($0, 1, length($0) - length(part[n]) - 1); if (dir == "") dir = "/";
          print (real[dir] == "/" ? "" : real[dir]) "/" part[n] }' "$context/dirmap.txt" "$1" | sort -u
}
physical "$list" > "$context/copy.txt"
cp "$context/copy.txt" "$context/todo.txt"
rounds=0
while [ -s "$context/todo.txt" ]; do
    rounds=$((rounds + 1))
    [ "$rounds" -le 40 ] || { echo "build-context: a symlink chain longer than 40 links under $(head -1 "$context/todo.txt")" >&2; exit 1; }
    # The targets of this round's symlinks, as paths (a relative target is relative to the link's directory).
    tr '\n' '\0' < "$context/todo.txt" | xargs -0 -r sh -c 'exec find "$@" -maxdepth 0 -type l -printf "%p\t%l\n"' sh |
        awk -F '\t' '{ if ($2 ~ /^\//) print $2; else { n = split($1, part, "/"); print substr($1, 1, length($1) - length(part[n])) $2 } }' > "$context/targets.txt"
    physical "$context/targets.txt" > "$context/next.txt"
    # Only paths not seen yet: the next round's work.
    sort -u "$context/copy.txt" -o "$context/copy.txt"
    comm -13 "$context/copy.txt" "$context/next.txt" > "$context/todo.txt"
    cat "$context/todo.txt" >> "$context/copy.txt"
done
sort -u "$context/copy.txt" -o "$context/copy.txt"
# Through an archive file, not a pipe: sh has no pipefail, and a file tar cannot read must fail the build.
sed 's|^/||' "$context/copy.txt" | tar -C / -cf "$context/rootfs.tar" -T -
tar -C "$rootfs" -xpf "$context/rootfs.tar"
sort -u "$list" -o "$list"
rm -f "$context/dirs.txt" "$context/dirmap.txt" "$context/todo.txt" "$context/targets.txt" "$context/next.txt" \
    "$context/copy.txt" "$context/rootfs.tar"

ln -sfn "$(command -v dash)" "$rootfs/usr/bin/sh"
if [ "${TESTPMD_LAUNCHER_STDIN:-}" = 1 ]; then
    printf '%s\n' "$launcher" > "$rootfs/usr/local/bin/testpmd-launcher"
else
    cp "$here/testpmd-launcher" "$rootfs/usr/local/bin/testpmd-launcher"
fi
chmod 0755 "$rootfs/usr/local/bin/testpmd-launcher"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\n' > "$rootfs/etc/group"
if [ -f "$here/Containerfile" ]; then cp "$here/Containerfile" "$context/Containerfile"; fi
echo "build-context: $(wc -l < "$list") files from $(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo '?'), $(du -sm "$rootfs" | cut -f1) MB in $rootfs"
