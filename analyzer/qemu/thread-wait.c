/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "thread-wait.h"

/* QEMU functions that wait on a lock-like object, and the variable naming it. */
static const struct {
	const char *function, *variable, *type;
	enum ac_wait_kind kind;
} lock_frames[] = {
	{ "qemu_mutex_lock_impl", "mutex", "QemuMutex", AC_WAIT_MUTEX },
	{ "qemu_rec_mutex_lock_impl", "mutex", "QemuRecMutex", AC_WAIT_MUTEX },
	{ "qemu_mutex_lock", "mutex", "QemuMutex", AC_WAIT_MUTEX },
	{ "qemu_cond_wait_impl", "cond", "QemuCond", AC_WAIT_COND },
	{ "qemu_cond_timedwait_impl", "cond", "QemuCond", AC_WAIT_COND },
	{ "qemu_cond_wait", "cond", "QemuCond", AC_WAIT_COND },
	{ "qemu_cond_timedwait", "cond", "QemuCond", AC_WAIT_COND },
	{ "qemu_event_wait", "ev", "QemuEvent", AC_WAIT_EVENT },
	{ "qemu_sem_wait", "sem", "QemuSemaphore", AC_WAIT_SEMAPHORE },
	{ "qemu_sem_timedwait", "sem", "QemuSemaphore", AC_WAIT_SEMAPHORE },
};

/* Who takes the BQL, and its variable (up to 8.x / from 9.0). */
static const struct {
	const char *function, *variable;
} bql_frames[] = {
	{ "qemu_mutex_lock_iothread_impl", "qemu_global_mutex" },
	{ "qemu_mutex_lock_iothread", "qemu_global_mutex" },
	{ "bql_lock_impl", "bql" },
};

static const char *const poll_calls[] = { "poll", "ppoll", "epoll_wait", "epoll_pwait" };
static const char *const io_calls[] = {
	"read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev",
	"preadv2", "pwritev2", "fsync", "fdatasync", "io_submit", "io_getevents",
	"io_pgetevents", "io_uring_enter", "recvmsg", "sendmsg", "recvfrom", "sendto",
	"fallocate", "ioctl",
};
/* glibc's inline wrappers (bits/unistd.h) keep their arguments in QEMU's DWARF. */
static const char *const io_wrappers[] = { "pread64", "pwrite64", "pread", "pwrite", "read" };

static const char *in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(name, list[i]))
			return list[i];
	return NULL;
}
#define IN_LIST(name, list) in_list(name, list, sizeof(list) / sizeof(list[0]))

const char *ac_wait_kind_name(enum ac_wait_kind kind)
{
	static const char *const names[] = {
		[AC_WAIT_NONE] = "none", [AC_WAIT_MUTEX] = "mutex", [AC_WAIT_COND] = "cond",
		[AC_WAIT_EVENT] = "event", [AC_WAIT_SEMAPHORE] = "semaphore",
		[AC_WAIT_POLL] = "poll", [AC_WAIT_IO] = "io", [AC_WAIT_SYSCALL] = "syscall",
	};
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

static void add_problem(struct ac_thread_wait *w, struct ac_error *err, const char *what)
{
	if (!w->problem && asprintf(&w->problem, "%s: %s", what, err->message) < 0)
		w->problem = NULL;
	ac_error_destroy(err);
}

/* Frames above `at` are libc's or inlined into it: the wait is at `at`. */
static bool is_innermost_qemu(const struct ac_backtrace *bt, size_t at)
{
	const char *mod = bt->frames[at].module;
	for (size_t i = 0; i < at; i++)
		if (!bt->frames[i].inlined && mod && bt->frames[i].module &&
		    !strcmp(bt->frames[i].module, mod))
			return false;
	return true;
}

static void set_frame(struct ac_program *prog, struct ac_thread_wait *w, long at)
{
	char buf[160];
	w->frame = at;
	free(w->frame_text);
	w->frame_text = strdup(ac_frame_text(prog, w->thread_index, at, buf, sizeof(buf)));
}

static void name_object(struct ac_program *prog, struct ac_thread_wait *w)
{
	const char *name;
	uint64_t offset;
	struct ac_error *err = ac_program_symbol(prog, w->object, &name, &offset);
	if (!err && offset == 0)
		w->object_name = strdup(name);
	ac_error_destroy(err);
}

/*
 * A thread asleep in the kernel on a mutex: glibc's futex word is the
 * pthread_mutex_t itself (__data.__lock comes first), so the syscall's
 * first argument names the QemuMutex even where the frame's `mutex` is
 * optimized out or misread (a tail call such as aio_context_acquire's).
 */
static void mutex_from_futex(struct ac_program *prog, struct ac_thread_wait *w)
{
	struct ac_object mutex, lock;
	if (!w->in_syscall || !w->syscall.name || strcmp(w->syscall.name, "futex") ||
	    !w->syscall.args[0])
		return;
	/* QemuMutex.lock's offset, from the DWARF (0 in every QEMU so far). */
	struct ac_error *err = ac_object_at(prog, "QemuMutex", "qemu_mutex_lock_impl", 0, &mutex);
	if (!err)
		err = ac_object_member(prog, &mutex, "lock", &lock, NULL);
	if (err) {
		ac_error_destroy(err);
		return;
	}
	/* On aarch64 x0 holds the syscall's return once it was interrupted
	 * (-EINTR), not its first argument: use it only if it is memory. */
	uint32_t word;
	struct ac_error *rerr = ac_target_read_u32(prog->target, w->syscall.args[0], &word);
	if (rerr) {
		ac_error_destroy(rerr);
		return;
	}
	if (w->syscall.args[0] >= lock.address)
		w->object = w->syscall.args[0] - lock.address;
}

static void read_owner(struct ac_program *prog, struct ac_thread_wait *w)
{
	struct ac_object mutex;
	uint64_t owner;
	struct ac_error *err = ac_object_at(prog, "QemuMutex", "qemu_mutex_lock_impl",
					    w->object, &mutex);
	if (!err)
		err = ac_object_member_uint(prog, &mutex, "lock.__data.__owner", &owner);
	if (err) {
		add_problem(w, err, "QemuMutex.lock.__data.__owner");
		return;
	}
	w->has_owner = true;
	w->owner_tid = (pid_t)owner;
}

static bool decode_lock(struct ac_program *prog, const struct ac_backtrace *bt,
			struct ac_thread_wait *w)
{
	for (size_t f = 0; f < bt->n_frames; f++) {
		const char *fn = bt->frames[f].function;
		size_t k = 0;
		while (k < sizeof(lock_frames) / sizeof(lock_frames[0]) &&
		       (!fn || strcmp(fn, lock_frames[k].function)))
			k++;
		if (k == sizeof(lock_frames) / sizeof(lock_frames[0]))
			continue;
		if (!is_innermost_qemu(bt, f))
			return false;
		w->kind = lock_frames[k].kind;
		w->object_type = lock_frames[k].type;
		set_frame(prog, w, (long)f);
		struct ac_error *err = ac_frame_variable_uint(prog, w->thread_index, f,
							      lock_frames[k].variable, &w->object);
		/* The BQL: its taker's frame below names it when `mutex` is gone. */
		for (size_t b = 0; b < sizeof(bql_frames) / sizeof(bql_frames[0]); b++) {
			long at = ac_backtrace_find_function(bt, bql_frames[b].function);
			if (at < 0 || (size_t)at > f + 2 || w->kind != AC_WAIT_MUTEX)
				continue;
			struct ac_variable var;
			struct ac_error *verr = ac_dwarf_find_variable(prog->dwarf,
								       bql_frames[b].variable,
								       bql_frames[b].function, &var);
			if (!verr && (err || !w->object)) {
				ac_error_destroy(err);
				err = NULL;
				w->object = var.address;
			}
			ac_error_destroy(verr);
			break;
		}
		if (w->kind == AC_WAIT_MUTEX) {
			uint64_t before = err ? 0 : w->object;
			mutex_from_futex(prog, w);
			if (err && w->object) {
				ac_error_destroy(err);
				err = NULL;
			}
			if (!err && before && before != w->object)
				ac_program_note(prog, "thread %d: %s = 0x%" PRIx64 " in #%zu, but it "
						"sleeps on the futex of 0x%" PRIx64 ": the futex's is used",
						w->tid, lock_frames[k].variable, before, f, w->object);
		}
		if (err) {
			add_problem(w, err, lock_frames[k].variable);
			return true;
		}
		name_object(prog, w);
		if (w->kind == AC_WAIT_MUTEX)
			read_owner(prog, w);
		return true;
	}
	return false;
}

static void decode_poll(struct ac_program *prog, struct ac_thread_wait *w)
{
	w->kind = AC_WAIT_POLL;
	if (!w->in_syscall)
		return;
	const uint64_t *a = w->syscall.args;
	const char *call = w->syscall.name;
	struct ac_error *err = NULL;
	if (!strcmp(call, "poll") || !strcmp(call, "ppoll")) {
		w->n_fds = a[1];
		for (size_t i = 0; i < a[1] && i < AC_WAIT_MAX_FDS && !err; i++) {
			uint32_t fd;
			err = ac_target_read_u32(prog->target, a[0] + 8 * i, &fd);
			w->fds[i] = (int)fd;
		}
		if (!strcmp(call, "poll")) {
			w->has_timeout = (int32_t)a[2] >= 0;
			w->timeout_ms = (int32_t)a[2];
		} else if (a[2] && !err) {
			uint64_t sec = 0, nsec = 0;
			err = ac_target_read_u64(prog->target, a[2], &sec);
			if (!err)
				err = ac_target_read_u64(prog->target, a[2] + 8, &nsec);
			w->has_timeout = !err;
			w->timeout_ms = (int64_t)(sec * 1000 + nsec / 1000000);
		}
	} else {
		/* epoll_wait(epfd, events, maxevents, timeout): the set is in the kernel. */
		w->n_fds = 1;
		w->fds[0] = (int)a[0];
		w->has_timeout = (int32_t)a[3] >= 0;
		w->timeout_ms = (int32_t)a[3];
	}
	if (err)
		add_problem(w, err, call);
}

/* fd, offset and length of an I/O syscall from its arguments. */
static void decode_io_registers(struct ac_program *prog, struct ac_thread_wait *w)
{
	const uint64_t *a = w->syscall.args;
	const char *call = w->syscall.name;
	struct ac_error *err = NULL;
	w->args_from = "syscall registers";
	w->fd = (int64_t)(int32_t)a[0];
	if (!strcmp(call, "pread64") || !strcmp(call, "pwrite64") || !strcmp(call, "read") ||
	    !strcmp(call, "write") || !strcmp(call, "recvfrom") || !strcmp(call, "sendto")) {
		w->has_length = true;
		w->length = a[2];
		w->has_offset = !strcmp(call, "pread64") || !strcmp(call, "pwrite64");
		w->offset = (int64_t)a[3];
	} else if (strstr(call, "readv") || strstr(call, "writev")) {
		/* The iovecs' lengths, bounded like any list in a core. */
		w->has_offset = call[0] == 'p';
		w->offset = (int64_t)a[3];
		w->has_length = true;
		for (uint64_t i = 0; i < a[2] && i < 1024 && !err; i++) {
			uint64_t len = 0;
			err = ac_target_read_u64(prog->target, a[1] + 16 * i + 8, &len);
			w->length += len;
		}
		w->has_length = !err;
	} else if (!strcmp(call, "io_submit")) {
		/* io_submit(ctx, nr, iocbpp): the first iocb's aio_fildes/nbytes/offset. */
		uint64_t iocb = 0, nbytes = 0, offset = 0;
		uint32_t fd = 0;
		err = ac_target_read_pointer(prog->target, a[2], &iocb);
		if (!err)
			err = ac_target_read_u32(prog->target, iocb + 20, &fd);
		if (!err)
			err = ac_target_read_u64(prog->target, iocb + 32, &nbytes);
		if (!err)
			err = ac_target_read_u64(prog->target, iocb + 40, &offset);
		if (!err) {
			w->fd = fd;
			w->has_length = w->has_offset = true;
			w->length = nbytes;
			w->offset = (int64_t)offset;
		}
	}
	if (err)
		add_problem(w, err, call);
}

/* Not in a syscall (a stopped, not blocked, thread): the inline wrappers' DWARF. */
static bool decode_io_dwarf(struct ac_program *prog, const struct ac_backtrace *bt,
			    struct ac_thread_wait *w)
{
	for (size_t f = 0; f < bt->n_frames && f < 6; f++) {
		const char *fn = bt->frames[f].function;
		char base[64];
		if (!fn || !IN_LIST(ac_symbol_base_name(fn, base, sizeof(base)), io_wrappers))
			continue;
		uint64_t fd, value;
		struct ac_error *err = ac_frame_variable_uint(prog, w->thread_index, f, "__fd", &fd);
		if (err) {
			ac_error_destroy(err);
			continue;
		}
		w->kind = AC_WAIT_IO;
		w->io_call = IN_LIST(ac_symbol_base_name(fn, base, sizeof(base)), io_wrappers);
		w->args_from = "DWARF frame variables";
		w->fd = (int64_t)(int32_t)fd;
		if (!(err = ac_frame_variable_uint(prog, w->thread_index, f, "__offset", &value))) {
			w->has_offset = true;
			w->offset = (int64_t)value;
		}
		ac_error_destroy(err);
		if (!(err = ac_frame_variable_uint(prog, w->thread_index, f, "__nbytes", &value))) {
			w->has_length = true;
			w->length = value;
		}
		ac_error_destroy(err);
		return true;
	}
	return false;
}

/* The RawPosixAIOData a pool worker runs: handle_aiocb_*'s argument, else worker_thread's req. */
static void decode_request(struct ac_program *prog, const struct ac_backtrace *bt,
			   struct ac_thread_wait *w)
{
	static const char *const vars[] = { "aiocb", "opaque", "arg" };
	uint64_t aiocb = 0;
	bool in_request = false;
	long worker = ac_backtrace_find_function(bt, "worker_thread");
	/* An idle worker has no request; one between requests has a stale req. */
	if (worker < 0 || w->kind == AC_WAIT_COND || w->kind == AC_WAIT_SEMAPHORE)
		return;
	for (long f = 0; f < worker && !aiocb; f++) {
		const char *fn = bt->frames[f].function;
		if (!fn || (strncmp(fn, "handle_aiocb_", 13) && strcmp(fn, "aio_worker")))
			continue;
		in_request = true;
		for (size_t v = 0; v < sizeof(vars) / sizeof(vars[0]) && !aiocb; v++) {
			struct ac_error *err = ac_frame_variable_uint(prog, w->thread_index,
								      (size_t)f, vars[v], &aiocb);
			ac_error_destroy(err);
		}
		/* The I/O is this request's: name its frame, not libc's. */
		if (aiocb && w->kind == AC_WAIT_IO && w->frame < 0)
			set_frame(prog, w, f);
	}
	/*
	 * worker_thread's req names the request only while its function runs.
	 * After it, the worker marks it THREAD_DONE, schedules the completion
	 * BH and takes pool->lock, and may wait there (or in the BH's notify
	 * write) while the home thread completes and frees req: a stale req
	 * leads to freed memory (a five-run series met a "block node" of
	 * random bytes in a busy convert).
	 */
	if (!aiocb && in_request) {
		uint64_t req = 0;
		struct ac_object elem;
		struct ac_error *err = ac_frame_variable_uint(prog, w->thread_index,
							      (size_t)worker, "req", &req);
		if (!err && req)
			err = ac_object_at(prog, "ThreadPoolElementAio", "thread_pool_completion_bh",
					   req, &elem);
		if (err && err->code == AC_ERR_LOOKUP && req) {
			ac_error_destroy(err);
			err = ac_object_at(prog, "ThreadPoolElement", "thread_pool_completion_bh",
					   req, &elem);
		}
		if (!err && req)
			err = ac_object_member_uint(prog, &elem, "arg", &aiocb);
		ac_error_destroy(err);
	}
	if (!aiocb)
		return;
	/* A running worker's request may be half-written: its node is not read. */
	struct ac_error *err = ac_posix_aio_decode(prog, aiocb, w->kind != AC_WAIT_NONE, &w->aio);
	if (err)
		add_problem(w, err, "the worker's request");
	else if (w->aio.node_problem && !w->problem)
		w->problem = strdup(w->aio.node_problem);
}

static void decode_thread(struct ac_program *prog, size_t index, struct ac_thread_wait *w)
{
	const struct ac_thread *thread = ac_target_thread(prog->target, index);
	const struct ac_backtrace *bt = ac_program_backtrace(prog, index);
	w->thread_index = index;
	w->tid = thread ? thread->tid : 0;
	w->frame = -1;
	w->fd = -1;
	if (!thread || !bt || !bt->n_frames)
		return;
	char base[64];
	const char *fn0 = bt->frames[0].function;
	w->blocked_in = strdup(fn0 ? ac_symbol_base_name(fn0, base, sizeof(base)) : "??");
	struct ac_error *err = ac_syscall_of_thread(prog->target, thread, &w->syscall);
	w->in_syscall = !err;
	ac_error_destroy(err);

	if (!decode_lock(prog, bt, w)) {
		const char *call = w->in_syscall ? w->syscall.name : NULL;
		if (IN_LIST(call, poll_calls) || (!w->in_syscall && IN_LIST(w->blocked_in, poll_calls)))
			decode_poll(prog, w);
		else if (IN_LIST(call, io_calls)) {
			w->kind = AC_WAIT_IO;
			w->io_call = IN_LIST(call, io_calls);
			decode_io_registers(prog, w);
		} else if (!w->in_syscall && decode_io_dwarf(prog, bt, w)) {
			;
		} else if (w->in_syscall) {
			w->kind = AC_WAIT_SYSCALL;
		}
	}
	decode_request(prog, bt, w);
	/* No lock frame: name the first caller outside frame 0's library. */
	for (size_t f = 1; w->frame < 0 && w->kind != AC_WAIT_NONE && f < bt->n_frames; f++)
		if (bt->frames[f].module && bt->frames[0].module &&
		    strcmp(bt->frames[f].module, bt->frames[0].module) && bt->frames[f].function)
			set_frame(prog, w, (long)f);
}

struct ac_error *ac_thread_waits_decode(struct ac_program *prog, struct ac_thread_waits *ret)
{
	size_t n = ac_target_thread_count(prog->target);
	struct ac_thread_waits waits = { .items = calloc(n ? n : 1, sizeof(*waits.items)), .n = n };
	if (!waits.items)
		return &ac_error_no_memory;
	for (size_t i = 0; i < n; i++)
		decode_thread(prog, i, &waits.items[i]);
	*ret = waits;
	return NULL;
}

void ac_thread_waits_deinit(struct ac_thread_waits *waits)
{
	for (size_t i = 0; i < waits->n; i++) {
		struct ac_thread_wait *w = &waits->items[i];
		free(w->blocked_in);
		free(w->frame_text);
		free(w->object_name);
		free(w->problem);
		ac_posix_aio_deinit(&w->aio);
	}
	free(waits->items);
	*waits = (struct ac_thread_waits){ 0 };
}

const char *ac_thread_wait_text(const struct ac_thread_wait *w, char *buf, size_t size)
{
	char name[96] = "";
	if (w->object_name)
		snprintf(name, sizeof(name), " %s", w->object_name);
	switch (w->kind) {
	case AC_WAIT_MUTEX:
		if (w->has_owner && w->owner_tid)
			snprintf(buf, size, "waits for %s%s 0x%" PRIx64 " held by thread %d",
				 w->object_type, name, w->object, w->owner_tid);
		else
			snprintf(buf, size, "waits for %s%s 0x%" PRIx64 "%s", w->object_type, name,
				 w->object, w->has_owner ? " (free: the wakeup is pending)" : "");
		break;
	case AC_WAIT_COND: case AC_WAIT_EVENT: case AC_WAIT_SEMAPHORE:
		snprintf(buf, size, "waits on %s%s 0x%" PRIx64, w->object_type, name, w->object);
		break;
	case AC_WAIT_POLL:
		if (!w->in_syscall)
			snprintf(buf, size, "asleep in %s", w->blocked_in);
		else if (w->has_timeout)
			snprintf(buf, size, "asleep in %s (%zu fd%s, timeout %" PRId64 " ms)",
				 w->syscall.name, w->n_fds, w->n_fds == 1 ? "" : "s", w->timeout_ms);
		else
			snprintf(buf, size, "asleep in %s (%zu fd%s, no timeout)", w->syscall.name,
				 w->n_fds, w->n_fds == 1 ? "" : "s");
		break;
	case AC_WAIT_IO: {
		int n = snprintf(buf, size, "%s(fd %" PRId64, w->io_call, w->fd);
		if (n >= 0 && (size_t)n < size && w->has_offset)
			n += snprintf(buf + n, size - (size_t)n, ", offset %" PRId64, w->offset);
		if (n >= 0 && (size_t)n < size && w->has_length)
			n += snprintf(buf + n, size - (size_t)n, ", %" PRIu64 " bytes", w->length);
		if (n >= 0 && (size_t)n < size)
			snprintf(buf + n, size - (size_t)n, ") not returned");
		break;
	}
	case AC_WAIT_SYSCALL:
		if (w->syscall.name)
			snprintf(buf, size, "in %s", w->syscall.name);
		else
			snprintf(buf, size, "in syscall %" PRId64, w->syscall.number);
		break;
	default:
		snprintf(buf, size, "running (in %s)", w->blocked_in ? w->blocked_in : "??");
	}
	return buf;
}
