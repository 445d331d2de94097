# SPDX-License-Identifier: GPL-2.0-or-later
#
# Seed 003's manual diagnosis of a lost thread-pool completion, as a gdb
# script (bench/diagnose.sh runs it with gdb -batch):
#   1. print the main AioContext's thread-pool request list head,
#   2. walk the list, printing each element (state THREAD_DONE is the tell),
#   3. print the completion record behind common.opaque and the Coroutine
#      it points to,
#   4. thread apply all bt.
#
# The names of the types differ between QEMU generations, so the caller
# sets three convenience variables first (gdb -ex 'set $elem_type = "..."'):
#
#   profile  $elem_type              $opaque_type             $co_member
#   g2       "ThreadPoolElement"     "CoroutineIOCompletion"  "coroutine"
#   g5       "ThreadPoolElement"     "ThreadPoolCo"           "co"
#   g10      "ThreadPoolElementAio"  "ThreadPoolCo"           "co"
#
# Seed 003 (QEMU 2.1) prints the element list with `while $req ... end` and
# dereferences opaque by hand; `eval` does the same with the type names
# taken from the variables.
set pagination off
set width 0
print qemu_aio_context->thread_pool->head.lh_first
set $req = qemu_aio_context->thread_pool->head.lh_first
while $req
  print $req
  eval "print *(%s *)$req", $elem_type
  eval "set $opq = ((%s *)$req)->common.opaque", $elem_type
  eval "print *(%s *)$opq", $opaque_type
  eval "print *(Coroutine *)((%s *)$opq)->%s", $opaque_type, $co_member
  eval "set $req = ((%s *)$req)->all.le_next", $elem_type
end
thread apply all bt
