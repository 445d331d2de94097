/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The known hang patterns (shared/QEMU-INTERNALS.md section 7). */
#include <string.h>

#include "pattern.h"

static const struct ac_pattern patterns[] = {
	{
		.id = "lost-completion",
		.title = "thread-pool completion lost: a request is THREAD_DONE but its completion BH never ran",
		.fix_commit = "e8d3b1a25f28",
		.fix_title = "aio: strengthen memory barriers for bottom half scheduling",
		.affected = "QEMU before 2.3 (fixed in 2.3.0); in the field: RHEL 7.1 qemu-kvm-rhev 2.1.2, Ubuntu Trusty",
		.fixed_in = &(const struct ac_qemu_release){ 2, 3, 0 },
		.mechanism = "qemu_bh_schedule() returned early on a stale scheduled == 1 without a barrier, and aio_bh_poll() cleared scheduled with only a read barrier, so the worker's schedule of completion_bh was lost",
	},
	{
		.id = "lost-notify",
		.title = "lost aio_notify: a runnable BH but its AioContext sleeps in ppoll",
		.fix_commit = "5710a3e09f9b",
		.fix_title = "async: use explicit memory barriers",
		.affected = "QEMU with notify_me (2.4) up to 4.2, fixed in 5.0.0; seen on aarch64",
		.fixed_in = &(const struct ac_qemu_release){ 5, 0, 0 },
		.mechanism = "the seq-cst read-modify-write of ctx->notify_me was not ordered against the relaxed load of the BH flag (Dekker pattern), so the scheduler saw notify_me == 0 and did not kick the eventfd while the poller saw no BH",
	},
	{
		.id = "event-lost-wakeup",
		.title = "QemuEvent lost wakeup: a waiter sleeps on EV_BUSY although its condition holds",
		.fix_commit = "9586a1329f5d",
		.fix_title = "qemu-thread-posix: cleanup, fix, document QemuEvent (series 2023-03; for AIO_WAIT_WHILE also 7455ff1aa015 \"aio_wait_kick: add missing memory barrier\")",
		.affected = "QemuEvent: QEMU before 8.0; aio_wait_kick: before 7.1",
		.fixed_in = &(const struct ac_qemu_release){ 8, 0, 0 },
		.mechanism = "qemu_event_set() raced with qemu_event_reset()/qemu_event_wait() without full barriers, so the set was lost and the waiter went to sleep on EV_BUSY",
	},
	{
		.id = "nested-poll",
		.title = "nested aio_poll deadlock inside the thread-pool completion BH",
		.fix_commit = "3c80ca158c96",
		.fix_title = "thread-pool: avoid deadlock in nested aio_poll() calls",
		.affected = "QEMU before 2.1",
		.fixed_in = &(const struct ac_qemu_release){ 2, 1, 0 },
		.mechanism = "a completion callback ran aio_poll() waiting for another request, whose completion needs the same completion_bh that is running and will not be scheduled again",
	},
	{
		.id = "iohandler-race",
		.title = "block-job completion BH raced with guest requests from iohandler_ctx",
		.fix_commit = "ab27c3b5e740",
		.fix_title = "mirror: Workaround for unexpected iohandler events during completion",
		.affected = "QEMU 2.5 - 2.6 (fixed in 2.6)",
		.fixed_in = &(const struct ac_qemu_release){ 2, 6, 0 },
		.mechanism = "between bdrv_drained_begin() and mirror_exit() the main loop dispatched virtio host notifiers through iohandler_ctx, whose external events were not disabled, so new requests slipped in",
	},
	{
		.id = "bql-poll-cycle",
		.title = "BQL holder polls for work only the main thread can do",
		.fix_commit = NULL,
		.fix_title = "GitLab issue #780",
		.affected = "QEMU 6.x",
		.fixed_in = NULL,
		.mechanism = "a thread holding the BQL waits in aio_poll for a bottom half that only the main loop runs, while the main loop waits for the BQL",
	},
	{
		.id = "lock-cycle",
		.title = "lock cycle: threads wait for each other's mutexes (a deadlock)",
		.fix_commit = NULL,
		.fix_title = "none: a lock-order inversion; the fix is in the code that takes the locks",
		.affected = "any QEMU; the BQL against an AioContext lock: QEMU up to 8.x (9.0 removed the AioContext lock)",
		.fixed_in = NULL,
		.mechanism = "each thread holds a mutex (a QemuMutex, a QemuRecMutex such as an AioContext lock, or the BQL) and sleeps on another whose owner, read from glibc's __owner, waits in turn for one the first holds; none can go on",
		.next_step = "the stacks of the threads in the evidence: where each took the lock it holds (the caller that did not release it) and which of the two orders is the wrong one; search QEMU's history for the functions in both stacks",
	},
	{
		.id = "lost-coroutine-wake",
		.title = "a coroutine is scheduled but its context's co_schedule_bh is not pending",
		.fix_commit = NULL,
		.fix_title = "generic invariant of aio_co_schedule()",
		.affected = "QEMU 2.9 and later",
		.fixed_in = NULL,
		.mechanism = "aio_co_schedule() queues the coroutine on ctx->scheduled_coroutines and schedules co_schedule_bh; with the BH idle nothing will ever enter the coroutine",
	},
	{
		.id = "remote-not-answering",
		.title = "an NBD server does not answer: requests in flight, their coroutines parked on replies",
		.fix_commit = NULL,
		.fix_title = "none: not a QEMU bug, the NBD server does not answer",
		.affected = "any QEMU with the NBD client (the evidence is decoded for 2.1 and later)",
		.fixed_in = NULL,
		.mechanism = "each request's coroutine sent its command and yields until the reply with its cookie arrives on the socket; a server that is stopped, hung or unreachable without the connection dropping sends none, so the coroutines never resume and the operation waiting for them (qemu-img convert, a guest read, a drain) waits forever",
		.next_step = "the NBD server named in the evidence: is it running, stopped, hung or unreachable; take a second core seconds later (diagnose --since) to tell stalled from slow",
		.no_reproduce = true,
	},
	{
		.id = "io-stalled",
		.title = "a file I/O system call has not returned, and the requests above it wait",
		.fix_commit = NULL,
		.fix_title = "none: not a QEMU bug, the storage under the file does not answer (or is slow)",
		.affected = "any QEMU version",
		.fixed_in = NULL,
		.mechanism = "a thread-pool worker (or another thread) sits in a read, write or flush of a file; the request, its coroutine and the device, job or qemu-img operation above wait for that system call to return",
		.next_step = "the storage: the file's filesystem, NFS/SAN/multipath, the kernel's hung-task messages (dmesg) and the process's /proc/PID/task/*/stack; take a second core seconds later to tell stalled from slow",
		.no_reproduce = true,
	},
	{
		.id = "drain-wait",
		.title = "a drain loop waits for requests in flight on the nodes it drains",
		.fix_commit = NULL,
		.fix_title = "none by itself: the requests in flight name where to look (storage, NBD server, a lost completion)",
		.affected = "any QEMU version (bdrv_drain*, AIO_WAIT_WHILE / BDRV_POLL_WHILE)",
		.fixed_in = NULL,
		.mechanism = "bdrv_drained_begin() and its kin poll (aio_poll) until every request in flight on the node has completed (in_flight 0); a request that does not complete keeps the draining thread, and whatever it holds (the main loop, the monitor, the BQL), waiting",
		.next_step = "the requests in flight in the evidence: a worker in a system call points at the storage, a tracked request without a worker at its coroutine (aiocore waits); take a second core seconds later (diagnose --since) to tell stalled from slow",
		.no_reproduce = true,
	},
	{
		.id = "job-stalled",
		.title = "a running block job waits on something that has not completed",
		.fix_commit = NULL,
		.fix_title = "none by itself: the leaf the job waits on names where to look",
		.affected = "any QEMU with block jobs (the job's coroutine: 2.x BlockJob.co, 3.0+ Job.co; a mirror's operations from 5.0)",
		.fixed_in = NULL,
		.mechanism = "a block job's coroutine (mirror, stream, commit, backup) yields while its operations' reads and writes are in flight; when one does not return, the job's progress stops and block-job-complete/cancel wait with it",
		.next_step = "the leaf in the evidence (for a file read or write, the io-stalled finding's storage); take a second core seconds later (diagnose --since) to see whether the job's offset moves",
		.no_reproduce = true,
	},
	{
		.id = "no-progress",
		.title = "no progress between two cores: requests in flight did not move",
		.fix_commit = NULL,
		.fix_title = "none by itself: the stalled request names where to look (storage, server, a lost wakeup)",
		.affected = "any QEMU (diagnose --since EARLIER.core CORE)",
		.fixed_in = NULL,
		.mechanism = "the same request, with the same state and arguments, is in flight in both cores of one process taken seconds apart, so whatever should complete it did not run or did not return",
		.no_reproduce = true,
	},
};

const struct ac_pattern *ac_pattern_find(const char *id)
{
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		if (!strcmp(patterns[i].id, id))
			return &patterns[i];
	return NULL;
}

const struct ac_pattern *ac_pattern_at(size_t index)
{
	return index < sizeof(patterns) / sizeof(patterns[0]) ? &patterns[index] : NULL;
}
