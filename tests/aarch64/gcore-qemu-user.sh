#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# gcore -o PREFIX PID for a process running under qemu-user (qemu-aarch64).
# gdb cannot attach to an emulated guest, so this stands in for gcore on the
# PATH of the reference runtime's watchdog (runtime/watchdog.c runs
# "gcore -o PREFIX PID" and expects PREFIX.PID): SIGABRT makes qemu-user
# write the guest's own core, qemu_<prog>_<date>_<pid>.core in the guest's
# cwd, which is moved to PREFIX.PID.
#
# Debian's qemu 7.2 then also lets the kernel dump the qemu-aarch64 host
# process (~170 MB, useless here).  With a plain core_pattern ("core", or
# "core.PID" with core_uses_pid) a directory of that name in the cwd makes
# the kernel skip that dump; it is removed afterwards.
[ "$1" = -o ] && [ $# -eq 3 ] || { echo "usage: gcore -o PREFIX PID" >&2; exit 64; }
prefix=$2 pid=$3
cwd=$(readlink /proc/"$pid"/cwd) || { echo "gcore: no process $pid" >&2; exit 1; }

block=
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
case $pattern in
'' | *[/%\|]*) ;;
*)
	[ "$(cat /proc/sys/kernel/core_uses_pid 2>/dev/null)" = 1 ] && pattern=$pattern.$pid
	mkdir "$cwd/$pattern" 2>/dev/null && block=$cwd/$pattern ;;
esac

kill -ABRT "$pid" || exit 1
rc=1 i=0
while [ $i -lt 600 ]; do
	# Complete once the process is a zombie (its parent, the watchdog,
	# reaps it only after we return) or gone.
	state=$(sed 's/.*) //' /proc/"$pid"/stat 2>/dev/null | cut -d' ' -f1)
	if [ -z "$state" ] || [ "$state" = Z ]; then
		for f in "$cwd"/qemu_*_"$pid".core; do
			[ -f "$f" ] && mv "$f" "$prefix.$pid" && rc=0
		done
		[ $rc -eq 0 ] || echo "gcore: qemu wrote no core for $pid in $cwd (RLIMIT_CORE?)" >&2
		break
	fi
	sleep 0.05
	i=$((i + 1))
done
[ -n "$block" ] && rmdir "$block"
[ $i -lt 600 ] || echo "gcore: $pid did not die within 30 s" >&2
exit $rc
