# SPDX-License-Identifier: GPL-2.0-or-later
# Reproduce a lost aio_notify() in a real QEMU: when a thread-pool worker
# schedules completion_bh, let the BH be marked scheduled but return from
# aio_notify() before it sets `notified` and kicks the eventfd -- the
# effect of the notify_me / BH-flag reordering that 5710a3e09f9b fixed.
# It hangs only when the poller already slept (otherwise it sees the BH
# and the program exits): the test retries.  Inlined frames count, hence
# "any caller within 4".
set pagination off
set confirm off
set breakpoint pending on
handle SIGUSR1 SIGUSR2 SIGPIPE nostop noprint pass
break aio_notify if $_any_caller_is("worker_thread", 4)
commands
  silent
  return
  delete
  detach
  quit
end
run
