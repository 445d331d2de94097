/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compressed cores: detect gzip/xz/zstd by magic, stream-decompress into a
 * sparse temporary file (all-zero 4096-byte blocks become holes), and make
 * sure the temporary file goes away at exit or on a fatal signal.
 *
 * The compressed file is hostile input: every decoder error names the file
 * and what went wrong, truncation is reported as such, and the output is
 * capped (1 TiB by default) so that a decompression bomb fails cleanly
 * instead of filling the disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "decompress.h"

#define BLOCK_SIZE 4096u
#define OUT_BUF_SIZE (1u << 20) /* a multiple of BLOCK_SIZE */
#define IN_BUF_SIZE (256u << 10)
#define PROGRESS_INTERVAL (UINT64_C(64) << 20)
/* zstd --long=31 needs a 2 GiB window; the library default stops at 128 MiB. */
#define ZSTD_WINDOW_LOG_MAX 31

/* ------------------------------------------------------------------------ */
/* Detection */

const char *ac_compression_name(enum ac_compression c)
{
	switch (c) {
	case AC_COMPRESSION_NONE: return "none";
	case AC_COMPRESSION_GZIP: return "gzip";
	case AC_COMPRESSION_XZ: return "xz";
	case AC_COMPRESSION_ZSTD: return "zstd";
	}
	return "unknown";
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

struct ac_error *ac_compression_detect(const char *path, enum ac_compression *ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ac_error_create(AC_ERR_IO, "%s: cannot open: %s", path,
				       strerror(errno));
	unsigned char m[6];
	ssize_t n = read_full(fd, m, sizeof(m));
	int saved = errno;
	close(fd);
	if (n < 0)
		return ac_error_create(AC_ERR_IO, "%s: cannot read: %s", path,
				       strerror(saved));

	enum ac_compression c = AC_COMPRESSION_NONE;
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		c = AC_COMPRESSION_GZIP;
	else if (n >= 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0)
		c = AC_COMPRESSION_XZ;
	else if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		c = AC_COMPRESSION_ZSTD;
	/* A skippable frame (0x184D2A50..5F) opens pzstd's output. */
	else if (n >= 4 && (m[0] & 0xf0) == 0x50 && m[1] == 0x2a && m[2] == 0x4d &&
		 m[3] == 0x18)
		c = AC_COMPRESSION_ZSTD;
	*ret = c;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Registry of temporary files, emptied at exit and on fatal signals. */

#define MAX_TEMP_FILES 32

enum { SLOT_FREE, SLOT_BUSY, SLOT_READY };

static struct temp_slot {
	int state;   /* accessed with __atomic builtins */
	pid_t owner; /* a forked child must not remove its parent's files */
	char path[PATH_MAX];
} temp_slots[MAX_TEMP_FILES];

static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP };

void ac_decompressed_remove_all(void)
{
	pid_t self = getpid();
	for (size_t i = 0; i < MAX_TEMP_FILES; i++) {
		struct temp_slot *s = &temp_slots[i];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_READY &&
		    s->owner == self)
			unlink(s->path);
	}
}

static void cleanup_at_exit(void)
{
	ac_decompressed_remove_all();
}

static void cleanup_on_signal(int sig)
{
	int saved = errno;
	ac_decompressed_remove_all();
	/*
	 * SA_RESETHAND restored the default action and sig stays blocked
	 * until we return, so this terminates the process as it would have.
	 */
	raise(sig);
	errno = saved;
}

static void install_cleanup(void)
{
	atexit(cleanup_at_exit);
	for (size_t i = 0; i < sizeof(cleanup_signals) / sizeof(cleanup_signals[0]); i++) {
		struct sigaction old;
		if (sigaction(cleanup_signals[i], NULL, &old) < 0)
			continue;
		/* Leave ignored signals and the application's own handlers alone. */
		if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
			continue;
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = cleanup_on_signal;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESETHAND;
		sigaction(cleanup_signals[i], &sa, NULL);
	}
}

static pthread_once_t cleanup_once = PTHREAD_ONCE_INIT;

static bool register_temp(const char *path)
{
	for (size_t i = 0; i < MAX_TEMP_FILES; i++) {
		struct temp_slot *s = &temp_slots[i];
		int expected = SLOT_FREE;
		if (!__atomic_compare_exchange_n(&s->state, &expected, SLOT_BUSY, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		snprintf(s->path, sizeof(s->path), "%s", path);
		s->owner = getpid();
		__atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
		return true;
	}
	return false;
}

static void unregister_temp(const char *path)
{
	pid_t self = getpid();
	for (size_t i = 0; i < MAX_TEMP_FILES; i++) {
		struct temp_slot *s = &temp_slots[i];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_READY ||
		    s->owner != self || strcmp(s->path, path) != 0)
			continue;
		int expected = SLOT_READY;
		if (__atomic_compare_exchange_n(&s->state, &expected, SLOT_BUSY, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			s->path[0] = '\0';
			__atomic_store_n(&s->state, SLOT_FREE, __ATOMIC_RELEASE);
			return;
		}
	}
}

void ac_decompressed_remove(char *temp_path)
{
	if (!temp_path)
		return;
	/* Unlink first: a signal in between then finds nothing to leak. */
	unlink(temp_path);
	unregister_temp(temp_path);
	free(temp_path);
}

/* ------------------------------------------------------------------------ */
/* Creating the temporary file */

static const char *temp_dir(void)
{
	const char *d = getenv("TMPDIR");
	return d && *d ? d : "/tmp";
}

/* "aiocore-core.1234.zst-XXXXXX": recognisable in /tmp, safe characters only. */
static char *temp_template(const char *dir, const char *core_path)
{
	const char *base = strrchr(core_path, '/');
	base = base ? base + 1 : core_path;
	char clean[49];
	size_t n = 0;
	for (; base[n] && n < sizeof(clean) - 1; n++) {
		char ch = base[n];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
		clean[n] = ok ? ch : '_';
	}
	clean[n] = '\0';
	size_t dlen = strlen(dir);
	bool slash = dlen > 0 && dir[dlen - 1] == '/';
	char *tmpl;
	if (asprintf(&tmpl, "%s%saiocore-%s-XXXXXX", dir, slash ? "" : "/",
		     n ? clean : "core") < 0)
		return NULL;
	return tmpl;
}

static struct ac_error *create_temp(const char *core_path, const char *dir,
				    int *ret_fd, char **ret_path)
{
	struct ac_error *err = NULL;
	char *tmpl = temp_template(dir, core_path);
	if (!tmpl)
		return &ac_error_no_memory;
	if (strlen(tmpl) >= PATH_MAX) {
		err = ac_error_create(AC_ERR_IO,
				      "%s: temporary directory path is too long: %s",
				      core_path, dir);
		free(tmpl);
		return err;
	}

	pthread_once(&cleanup_once, install_cleanup);

	/* No fatal signal between creating the file and registering it. */
	sigset_t block, old;
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(cleanup_signals) / sizeof(cleanup_signals[0]); i++)
		sigaddset(&block, cleanup_signals[i]);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		err = ac_error_create(AC_ERR_IO,
				      "%s: cannot create a temporary file in %s for the decompressed core: %s",
				      core_path, dir, strerror(errno));
	} else if (!register_temp(tmpl)) {
		unlink(tmpl);
		close(fd);
		err = ac_error_create(AC_ERR_IO,
				      "%s: too many decompressed cores open at once (limit %d)",
				      core_path, MAX_TEMP_FILES);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		free(tmpl);
		return err;
	}
	*ret_fd = fd;
	*ret_path = tmpl;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* One decompression: input reader and sparse output writer */

struct job {
	const char *path;   /* the compressed core, for messages */
	const char *kind;   /* "gzip", "xz", "zstd" */
	int in_fd;
	uint8_t *in_buf;
	uint64_t in_total;  /* compressed bytes read so far */
	bool in_eof;

	const char *tmpdir;
	const char *tmp_path;
	int out_fd;
	uint8_t *out_buf;
	size_t out_used;    /* bytes pending in out_buf */
	uint64_t out_total; /* bytes already passed to the file (written or holes) */
	uint64_t max_size;

	void (*progress)(uint64_t bytes_out, void *arg);
	void *progress_arg;
	uint64_t next_progress;
};

static void format_size(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
	size_t u = 0;
	while (u + 1 < sizeof(units) / sizeof(units[0]) && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", v, units[u]);
}

/* Read the next chunk of compressed input; *ret_len == 0 means end of file. */
static struct ac_error *read_input(struct job *job, size_t *ret_len)
{
	ssize_t n;
	do {
		n = read(job->in_fd, job->in_buf, IN_BUF_SIZE);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return ac_error_create(AC_ERR_IO, "%s: read error after %" PRIu64 " bytes: %s",
				       job->path, job->in_total, strerror(errno));
	if (n == 0)
		job->in_eof = true;
	job->in_total += (uint64_t)n;
	*ret_len = (size_t)n;
	return NULL;
}

static struct ac_error *write_error(struct job *job, int errnum)
{
	if (errnum == ENOSPC)
		return ac_error_create(AC_ERR_IO,
				       "%s: disk full: no space left in %s for the decompressed core (%" PRIu64 " bytes decompressed so far); set TMPDIR to a directory with more space",
				       job->path, job->tmpdir, job->out_total);
	if (errnum == EDQUOT)
		return ac_error_create(AC_ERR_IO,
				       "%s: disk quota exceeded in %s while writing the decompressed core (%" PRIu64 " bytes decompressed so far); set TMPDIR to another directory",
				       job->path, job->tmpdir, job->out_total);
	return ac_error_create(AC_ERR_IO,
			       "%s: cannot write the decompressed core to %s (in %s) after %" PRIu64 " bytes: %s",
			       job->path, job->tmp_path, job->tmpdir, job->out_total,
			       strerror(errnum));
}

static struct ac_error *write_all(struct job *job, const uint8_t *buf, size_t len,
				  uint64_t offset)
{
	while (len) {
		ssize_t n = pwrite(job->out_fd, buf, len, (off_t)offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return write_error(job, errno);
		}
		if (n == 0)
			return write_error(job, EIO);
		buf += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return NULL;
}

static bool is_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/*
 * Write out_buf at out_total, skipping all-zero blocks.  out_total is a
 * multiple of OUT_BUF_SIZE except after the final flush, so blocks stay
 * aligned to BLOCK_SIZE in the file.
 */
static struct ac_error *flush_output(struct job *job)
{
	size_t len = job->out_used;
	if (!len)
		return NULL;
	if (len > job->max_size || job->out_total > job->max_size - len) {
		char limit[32];
		format_size(job->max_size, limit, sizeof(limit));
		return ac_error_create(AC_ERR_FORMAT,
				       "%s: decompressed %s data is larger than the %s limit (corrupt file or decompression bomb?)",
				       job->path, job->kind, limit);
	}
	const uint8_t *buf = job->out_buf;
	size_t i = 0;
	while (i < len) {
		size_t n = len - i < BLOCK_SIZE ? len - i : BLOCK_SIZE;
		if (is_zero(buf + i, n)) {
			i += n;
			continue;
		}
		size_t start = i;
		do {
			i += n;
			n = len - i < BLOCK_SIZE ? len - i : BLOCK_SIZE;
		} while (i < len && !is_zero(buf + i, n));
		struct ac_error *err = write_all(job, buf + start, i - start,
						 job->out_total + start);
		if (err)
			return err;
	}
	job->out_total += len;
	job->out_used = 0;
	if (job->progress && job->out_total >= job->next_progress) {
		job->progress(job->out_total, job->progress_arg);
		job->next_progress = job->out_total + PROGRESS_INTERVAL;
	}
	return NULL;
}

static struct ac_error *truncated(struct job *job)
{
	return ac_error_create(AC_ERR_FORMAT,
			       "%s: truncated %s stream after %" PRIu64 " bytes (%" PRIu64 " bytes decompressed)",
			       job->path, job->kind, job->in_total,
			       job->out_total + job->out_used);
}

/* ------------------------------------------------------------------------ */
/* Decoders */

static struct ac_error *run_gzip(struct job *job)
{
	struct ac_error *err = NULL;
	z_stream strm;
	memset(&strm, 0, sizeof(strm));
	int zret = inflateInit2(&strm, 16 + MAX_WBITS);
	if (zret == Z_MEM_ERROR)
		return &ac_error_no_memory;
	if (zret != Z_OK)
		return ac_error_create(AC_ERR_FORMAT, "%s: cannot initialise zlib: %s",
				       job->path, strm.msg ? strm.msg : zError(zret));

	for (;;) {
		if (strm.avail_in == 0 && !job->in_eof) {
			size_t n;
			if ((err = read_input(job, &n)))
				break;
			strm.next_in = job->in_buf;
			strm.avail_in = (uInt)n;
		}
		strm.next_out = job->out_buf + job->out_used;
		strm.avail_out = (uInt)(OUT_BUF_SIZE - job->out_used);
		zret = inflate(&strm, Z_NO_FLUSH);
		job->out_used = OUT_BUF_SIZE - strm.avail_out;
		if (job->out_used == OUT_BUF_SIZE && (err = flush_output(job)))
			break;

		if (zret == Z_STREAM_END) {
			/* Concatenated members: another one may follow. */
			if (strm.avail_in == 0 && !job->in_eof) {
				size_t n;
				if ((err = read_input(job, &n)))
					break;
				strm.next_in = job->in_buf;
				strm.avail_in = (uInt)n;
			}
			if (strm.avail_in == 0)
				break; /* clean end of the last member */
			inflateReset(&strm);
		} else if (zret == Z_OK) {
			continue;
		} else if (zret == Z_BUF_ERROR) {
			/* No progress possible: out of input mid-member. */
			if (strm.avail_in == 0 && job->in_eof) {
				err = truncated(job);
				break;
			}
		} else if (zret == Z_MEM_ERROR) {
			err = &ac_error_no_memory;
			break;
		} else {
			err = ac_error_create(AC_ERR_FORMAT,
					      "%s: corrupt gzip data (detected after %" PRIu64 " compressed bytes): %s",
					      job->path, job->in_total - strm.avail_in,
					      strm.msg ? strm.msg : zError(zret));
			break;
		}
	}
	inflateEnd(&strm);
	return err;
}

static struct ac_error *run_xz(struct job *job)
{
	struct ac_error *err = NULL;
	lzma_stream strm = LZMA_STREAM_INIT;
	lzma_ret lret = lzma_stream_decoder(&strm, UINT64_MAX, LZMA_CONCATENATED);
	if (lret == LZMA_MEM_ERROR)
		return &ac_error_no_memory;
	if (lret != LZMA_OK)
		return ac_error_create(AC_ERR_FORMAT, "%s: cannot initialise liblzma (error %d)",
				       job->path, (int)lret);

	for (;;) {
		if (strm.avail_in == 0 && !job->in_eof) {
			size_t n;
			if ((err = read_input(job, &n)))
				break;
			strm.next_in = job->in_buf;
			strm.avail_in = n;
		}
		strm.next_out = job->out_buf + job->out_used;
		strm.avail_out = OUT_BUF_SIZE - job->out_used;
		lret = lzma_code(&strm, job->in_eof ? LZMA_FINISH : LZMA_RUN);
		job->out_used = OUT_BUF_SIZE - strm.avail_out;
		if (job->out_used == OUT_BUF_SIZE && (err = flush_output(job)))
			break;

		const char *what = NULL;
		switch (lret) {
		case LZMA_OK:
			continue;
		case LZMA_STREAM_END:
			break;
		case LZMA_BUF_ERROR:
			err = truncated(job);
			break;
		case LZMA_MEM_ERROR:
			err = &ac_error_no_memory;
			break;
		case LZMA_FORMAT_ERROR:
			what = "not in .xz format";
			break;
		case LZMA_OPTIONS_ERROR:
			what = "unsupported compression options";
			break;
		case LZMA_DATA_ERROR:
			what = "compressed data is corrupt";
			break;
		case LZMA_MEMLIMIT_ERROR:
			what = "memory usage limit reached";
			break;
		default:
			what = "internal liblzma error";
			break;
		}
		if (what)
			err = ac_error_create(AC_ERR_FORMAT,
					      "%s: corrupt xz data (detected after %" PRIu64 " compressed bytes): %s",
					      job->path, job->in_total - strm.avail_in, what);
		break;
	}
	lzma_end(&strm);
	return err;
}

static struct ac_error *run_zstd(struct job *job)
{
	struct ac_error *err = NULL;
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	if (!dctx)
		return &ac_error_no_memory;
	ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX);

	ZSTD_inBuffer in = { job->in_buf, 0, 0 };
	size_t last = 1;   /* 0 once a frame is complete and fully flushed */
	unsigned stuck = 0; /* calls at end of input that produced nothing */
	for (;;) {
		if (in.pos == in.size && !job->in_eof) {
			size_t n;
			if ((err = read_input(job, &n)))
				break;
			in.src = job->in_buf;
			in.size = n;
			in.pos = 0;
		}
		if (in.pos == in.size && job->in_eof && last == 0)
			break; /* clean end after the last frame */

		ZSTD_outBuffer out = { job->out_buf + job->out_used,
				       OUT_BUF_SIZE - job->out_used, 0 };
		size_t zret = ZSTD_decompressStream(dctx, &out, &in);
		if (ZSTD_isError(zret)) {
			if (ZSTD_getErrorCode(zret) == ZSTD_error_memory_allocation)
				err = &ac_error_no_memory;
			else
				err = ac_error_create(AC_ERR_FORMAT,
						      "%s: corrupt zstd data (detected after %" PRIu64 " compressed bytes): %s",
						      job->path,
						      job->in_total - (in.size - in.pos),
						      ZSTD_getErrorName(zret));
			break;
		}
		job->out_used += out.pos;
		last = zret;
		if (job->out_used == OUT_BUF_SIZE && (err = flush_output(job)))
			break;
		if (job->in_eof && in.pos == in.size && last != 0 && out.pos == 0) {
			/* Input is gone and the decoder still wants more. */
			if (++stuck >= 2) {
				err = truncated(job);
				break;
			}
		} else {
			stuck = 0;
		}
	}
	ZSTD_freeDCtx(dctx);
	return err;
}

/* ------------------------------------------------------------------------ */

struct ac_error *ac_decompress_to_temp_opts(const char *path, enum ac_compression c,
					    const struct ac_decompress_options *opts,
					    char **ret_path)
{
	struct ac_error *(*run)(struct job *);
	switch (c) {
	case AC_COMPRESSION_GZIP: run = run_gzip; break;
	case AC_COMPRESSION_XZ: run = run_xz; break;
	case AC_COMPRESSION_ZSTD: run = run_zstd; break;
	default:
		return ac_error_create(AC_ERR_USAGE, "%s: nothing to decompress (compression %s)",
				       path, ac_compression_name(c));
	}

	struct job job = {
		.path = path,
		.kind = ac_compression_name(c),
		.in_fd = -1,
		.out_fd = -1,
		.tmpdir = temp_dir(),
		.max_size = opts && opts->max_size ? opts->max_size
						   : AC_DECOMPRESS_DEFAULT_MAX_SIZE,
		.progress = opts ? opts->progress : NULL,
		.progress_arg = opts ? opts->progress_arg : NULL,
		.next_progress = PROGRESS_INTERVAL,
	};
	struct ac_error *err = NULL;
	char *tmp_path = NULL;

	job.in_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (job.in_fd < 0)
		return ac_error_create(AC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	posix_fadvise(job.in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	job.in_buf = malloc(IN_BUF_SIZE);
	job.out_buf = malloc(OUT_BUF_SIZE);
	if (!job.in_buf || !job.out_buf) {
		err = &ac_error_no_memory;
		goto out;
	}

	if ((err = create_temp(path, job.tmpdir, &job.out_fd, &tmp_path)))
		goto out;
	job.tmp_path = tmp_path;

	if ((err = run(&job)) || (err = flush_output(&job)))
		goto out;
	/* Extend over a trailing hole. */
	while (ftruncate(job.out_fd, (off_t)job.out_total) < 0) {
		if (errno != EINTR) {
			err = write_error(&job, errno);
			goto out;
		}
	}
	if (close(job.out_fd) < 0 && errno != EINTR) {
		job.out_fd = -1;
		err = write_error(&job, errno);
		goto out;
	}
	job.out_fd = -1;
	if (job.progress)
		job.progress(job.out_total, job.progress_arg);

out:
	if (job.out_fd >= 0)
		close(job.out_fd);
	close(job.in_fd);
	free(job.in_buf);
	free(job.out_buf);
	if (err) {
		ac_decompressed_remove(tmp_path);
		return err;
	}
	*ret_path = tmp_path;
	return NULL;
}

struct ac_error *ac_decompress_to_temp(const char *path, enum ac_compression c,
				       char **ret_path)
{
	return ac_decompress_to_temp_opts(path, c, NULL, ret_path);
}
