# Sourced by the bench scripts. hugepages_option MB prints --hugepages when hugetlbfs is mounted
# and has MB megabytes free: the bench then runs on hugepages like a production dataplane
# (reserve them with e.g. `dpdk-hugepages.py --setup 4G`). Otherwise it prints nothing and the
# bench runs on 4 KiB pages, where the TLB misses of large tables and of the capture cost cycles
# the product would not spend.
hugepages_option() {
  grep -qs hugetlbfs /proc/mounts || return 0
  local free_pages size_kb
  free_pages=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
  size_kb=$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo)
  if [ $((free_pages * size_kb / 1024)) -ge "$1" ]; then echo --hugepages; fi
}
