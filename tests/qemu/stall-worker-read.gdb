# SPDX-License-Identifier: GPL-2.0-or-later
# Stop a thread-pool worker at the entry of a pread64 system call of
# the copy (>= 64 KiB; rax is -ENOSYS at entry only), as a hung NFS/SAN read looks in a core: the thread
# inside the syscall, orig_rax = its number, the arguments in registers.
# tests/qemu/test_waits.py then gcores the process from here.
set pagination off
set confirm off
catch syscall pread64
run
while $_thread == 1 || $rdx < 65536 || $rax != -38
  continue
end
