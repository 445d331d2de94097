# SPDX-License-Identifier: GPL-2.0-or-later
# Reproduce a lost completion in a real QEMU: the first time a thread-pool
# worker calls qemu_bh_schedule(pool->completion_bh) after setting its
# request to THREAD_DONE, return before the BH is scheduled -- the effect
# of the lost wakeup that e8d3b1a25f28 fixed.  Then detach: the process
# keeps running, and its poller sleeps forever.
set pagination off
set confirm off
set breakpoint pending on
handle SIGUSR1 SIGUSR2 SIGPIPE nostop noprint pass
break qemu_bh_schedule if $_caller_is("worker_thread")
commands
  silent
  return
  delete
  detach
  quit
end
run
