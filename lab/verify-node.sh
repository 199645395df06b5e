#!/bin/sh
# Checks the lab node's "hardware" from inside the guest; leaves it as it found it.
#   lab/labctl ssh 'sh -s' < lab/verify-node.sh
# Prints one "key: value" line per fact and exits non-zero if a check failed.
set -u
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
[ "$nodes" -eq 2 ] && ok "numa nodes: $nodes" || bad "numa nodes: $nodes (want 2)"
for n in /sys/devices/system/node/node[0-9]*; do
    echo "  $(basename "$n") cpus $(cat "$n/cpulist") mem $(awk '/MemTotal/ {print $4 " kB"}' "$n/meminfo")"
done
echo "cmdline: $(cat /proc/cmdline)"
groups=$(ls /sys/kernel/iommu_groups | wc -l)
[ "$groups" -gt 0 ] && ok "iommu groups: $groups" || bad "no IOMMU groups"
dmesg | grep -m1 -E 'Default domain type' || true

pfs=""
for pf in /sys/bus/pci/devices/*; do
    [ -f "$pf/sriov_totalvfs" ] && pfs="$pfs $pf"
done
for pf in $pfs; do
    a=$(basename "$pf")
    ifname=$(ls "$pf/net" 2>/dev/null | head -n1)
    total=$(cat "$pf/sriov_totalvfs")
    echo "pf $a: if=$ifname driver=$(basename "$(readlink "$pf/driver")") id=$(cat "$pf/vendor"):$(cat "$pf/device") numa_node=$(cat "$pf/numa_node") iommu_group=$(basename "$(readlink "$pf/iommu_group")") sriov_totalvfs=$total"
    [ "$total" -eq 7 ] || bad "$a sriov_totalvfs=$total"
    echo 0 > "$pf/sriov_numvfs"
    echo 2 > "$pf/sriov_numvfs" || bad "$a: cannot create VFs"
done
sleep 3
for pf in $pfs; do
    a=$(basename "$pf")
    nvf=$(ls -d "$pf"/virtfn* 2>/dev/null | wc -l)
    [ "$nvf" -eq 2 ] && ok "$a: $nvf VFs created" || bad "$a: $nvf VFs (want 2)"
    for vf in "$pf"/virtfn*; do
        v=$(readlink -f "$vf")
        echo "  vf $(basename "$v"): id=$(cat "$v/vendor"):$(cat "$v/device") numa_node=$(cat "$v/numa_node") iommu_group=$(basename "$(readlink "$v/iommu_group")") driver=$(basename "$(readlink "$v/driver")") if=$(ls "$v/net" 2>/dev/null | head -n1)"
    done
done
for pf in $pfs; do echo 0 > "$pf/sriov_numvfs"; done
npf=$(echo $pfs | wc -w)
[ "$npf" -eq 2 ] && ok "SR-IOV PFs: $npf" || bad "SR-IOV PFs: $npf (want 2)"

for n in /sys/devices/system/node/node[0-9]*; do
    hp=$n/hugepages/hugepages-2048kB/nr_hugepages
    before=$(cat "$hp")
    echo 128 > "$hp"
    got=$(cat "$hp")
    [ "$got" -eq 128 ] && ok "$(basename "$n"): 128 x 2M hugepages allocated" || bad "$(basename "$n"): $got of 128 2M hugepages"
    echo "$before" > "$hp"
done
[ -d /sys/kernel/mm/hugepages/hugepages-1048576kB ] && ok "1G hugepages supported" || echo "note: no 1G hugepage support"

grep -q -w -E 'sse4_2' /proc/cpuinfo && grep -q -w avx2 /proc/cpuinfo && ok "cpu has sse4_2 avx2" || bad "cpu lacks sse4_2/avx2"
out=$(echo quit | timeout 120 dpdk-testpmd -v -l 0-1 --no-huge -m 256 --no-pci --vdev=net_tap0,iface=labtap0 -- -i --total-num-mbufs=2048 2>&1)
echo "$out" | grep -q 'Bye' && ok "testpmd runs ($(echo "$out" | grep -m1 -o "DPDK [0-9.]*"), net_tap port started)" || bad "testpmd: $(echo "$out" | tail -n3)"
ls /usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0/ 2>/dev/null | grep -q e1000 && ok "e1000/igb PMD installed" || bad "no e1000 PMD"
modprobe vfio-pci && ok "vfio-pci loads" || bad "vfio-pci does not load"
r=$(mktemp -d)
mkdir -p "$r/lib/x86_64-linux-gnu" "$r/lib64" "$r/bin"
cp /bin/echo "$r/bin/" && cp /lib/x86_64-linux-gnu/libc.so.6 "$r/lib/x86_64-linux-gnu/" && cp /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
tar -C "$r" -c . | podman import -q - localhost/lab-echo:latest >/dev/null 2>&1
out=$(podman run --rm --network=none localhost/lab-echo:latest /bin/echo podman-ok 2>&1)
podman rmi -f localhost/lab-echo:latest >/dev/null 2>&1; rm -rf "$r"
[ "$out" = podman-ok ] && ok "podman runs a container ($(podman --version))" || bad "podman: $out"
exit $fail
