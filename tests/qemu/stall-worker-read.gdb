# SPDX-License-Identifier: GPL-2.0-or-later
# Stop a thread-pool worker at the entry of a read of the data: a preadv,
# or a pread64 of >= 64 KiB, by a thread other than the main one (rax is
# -ENOSYS at the entry only).  That is how a hung NFS/SAN read looks in a
# core: the thread inside the syscall, orig_rax = its number, the arguments
# in registers.  tests/qemu/test_waits.py then writes the core from here.
set pagination off
set confirm off
catch syscall pread64 preadv
run
while $_thread == 1 || $rax != -38 || ($orig_rax == 17 && $rdx < 65536)
  continue
end
