/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compressed cores and pipes: detect gzip/xz/zstd by magic, stream them
 * into a nameless sparse temporary file (all-zero 4096-byte blocks become
 * holes).  One loop reads, decodes and writes; each format only says how
 * to decode one step (struct codec).
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

#include "cleanup.h"
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

enum ac_compression ac_compression_detect_bytes(const unsigned char *m, size_t n)
{
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return AC_COMPRESSION_GZIP;
	if (n >= 6 && memcmp(m, "\xfd" "7zXZ\0", 6) == 0)
		return AC_COMPRESSION_XZ;
	if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return AC_COMPRESSION_ZSTD;
	/* A skippable frame (0x184D2A50..5F) opens pzstd's output. */
	if (n >= 4 && (m[0] & 0xf0) == 0x50 && m[1] == 0x2a && m[2] == 0x4d && m[3] == 0x18)
		return AC_COMPRESSION_ZSTD;
	return AC_COMPRESSION_NONE;
}

struct ac_error *ac_input_open(const char *path, bool allow_stdin, int *ret_fd)
{
	if (allow_stdin && !strcmp(path, "-")) {
		int fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return ac_error_create(AC_ERR_IO, "-: cannot read standard input: %s",
					       strerror(errno));
		*ret_fd = fd;
		return NULL;
	}
	/* O_NONBLOCK: open() of a FIFO without a writer would wait forever. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return ac_error_create(AC_ERR_IO, "%s: cannot open: %s", path,
				       strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ac_error_create(AC_ERR_IO, "%s: not a regular file", path);
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	*ret_fd = fd;
	return NULL;
}

struct ac_error *ac_compression_detect(const char *path, enum ac_compression *ret)
{
	int fd;
	struct ac_error *err = ac_input_open(path, false, &fd);
	if (err)
		return err;
	unsigned char m[AC_COMPRESSION_MAGIC_SIZE];
	ssize_t n = read_full(fd, m, sizeof(m));
	int saved = errno;
	close(fd);
	if (n < 0)
		return ac_error_create(AC_ERR_IO, "%s: cannot read: %s", path,
				       strerror(saved));
	*ret = ac_compression_detect_bytes(m, (size_t)n);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* The nameless temporary file */

static const char *temp_dir(void)
{
	const char *d = getenv("TMPDIR");
	return d && *d ? d : "/tmp";
}

static struct ac_error *create_temp(const char *name, const char *dir, int *ret_fd)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* No O_TMPFILE here: a name for the shortest possible time. */
		char *tmpl;
		size_t dlen = strlen(dir);
		if (asprintf(&tmpl, "%s%saiocore-core-XXXXXX", dir,
			     dlen && dir[dlen - 1] == '/' ? "" : "/") < 0)
			return &ac_error_no_memory;
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
		free(tmpl);
	}
	if (fd < 0)
		return ac_error_create(AC_ERR_IO,
				       "%s: cannot create a temporary file in %s for the decompressed core: %s",
				       name, dir, strerror(errno));
	*ret_fd = fd;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* One spooling: input reader and sparse output writer */

struct job {
	const char *path;   /* the input, for messages */
	const char *kind;   /* "gzip", "xz", "zstd", "none" */
	int in_fd;
	uint8_t *in_buf;
	uint64_t in_total;  /* input bytes read so far */
	bool in_eof;

	const char *tmpdir;
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

/* Read the next chunk of input; *ret_len == 0 means end of file. */
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
			       "%s: cannot write the decompressed core to a temporary file in %s after %" PRIu64 " bytes: %s",
			       job->path, job->tmpdir, job->out_total, strerror(errnum));
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
/*
 * Decoders.  step() decodes what it can of in[0..in_len) into
 * out[0..out_len) (out_len > 0), says how much it consumed and produced,
 * and returns STEP_MORE, STEP_END once the stream is complete and nothing
 * is pending, or STEP_ERROR with *err set.  The loop in spool() does the
 * reading, the writing and the truncation check for all of them.
 */

enum step { STEP_MORE, STEP_END, STEP_ERROR };

struct codec {
	struct ac_error *(*init)(struct job *job, void **state);
	enum step (*step)(struct job *job, void *state, const uint8_t *in, size_t in_len,
			  uint8_t *out, size_t out_len, size_t *used, size_t *made,
			  struct ac_error **err);
	void (*end)(void *state);
};

static struct ac_error *corrupt(struct job *job, uint64_t unread, const char *what)
{
	return ac_error_create(AC_ERR_FORMAT,
			       "%s: corrupt %s data (detected after %" PRIu64 " compressed bytes): %s",
			       job->path, job->kind, job->in_total - unread, what);
}

/* gzip: concatenated members (pigz, `cat a.gz b.gz`) form one stream. */
struct gzip_state {
	z_stream strm;
	bool member_done;
};

static struct ac_error *gzip_init(struct job *job, void **state)
{
	struct gzip_state *g = calloc(1, sizeof(*g));
	if (!g)
		return &ac_error_no_memory;
	int zret = inflateInit2(&g->strm, 16 + MAX_WBITS);
	if (zret != Z_OK) {
		free(g);
		return zret == Z_MEM_ERROR ? &ac_error_no_memory
			: ac_error_create(AC_ERR_FORMAT, "%s: cannot initialise zlib: %s",
					  job->path, zError(zret));
	}
	*state = g;
	return NULL;
}

static enum step gzip_step(struct job *job, void *state, const uint8_t *in, size_t in_len,
			   uint8_t *out, size_t out_len, size_t *used, size_t *made,
			   struct ac_error **err)
{
	struct gzip_state *g = state;
	if (g->member_done) {
		if (!in_len)
			return job->in_eof ? STEP_END : STEP_MORE;
		inflateReset(&g->strm);  /* another member follows */
		g->member_done = false;
	}
	g->strm.next_in = (Bytef *)in;
	g->strm.avail_in = (uInt)in_len;
	g->strm.next_out = out;
	g->strm.avail_out = (uInt)out_len;
	int zret = inflate(&g->strm, Z_NO_FLUSH);
	*used = in_len - g->strm.avail_in;
	*made = out_len - g->strm.avail_out;
	if (zret == Z_STREAM_END)
		g->member_done = true;
	else if (zret == Z_MEM_ERROR)
		*err = &ac_error_no_memory;
	else if (zret != Z_OK && zret != Z_BUF_ERROR)
		*err = corrupt(job, g->strm.avail_in,
			       g->strm.msg ? g->strm.msg : zError(zret));
	return *err ? STEP_ERROR : STEP_MORE;
}

static void gzip_end(void *state)
{
	struct gzip_state *g = state;
	inflateEnd(&g->strm);
	free(g);
}

static struct ac_error *xz_init(struct job *job, void **state)
{
	lzma_stream *strm = malloc(sizeof(*strm));
	if (!strm)
		return &ac_error_no_memory;
	*strm = (lzma_stream)LZMA_STREAM_INIT;
	lzma_ret lret = lzma_stream_decoder(strm, UINT64_MAX, LZMA_CONCATENATED);
	if (lret != LZMA_OK) {
		free(strm);
		return lret == LZMA_MEM_ERROR ? &ac_error_no_memory
			: ac_error_create(AC_ERR_FORMAT, "%s: cannot initialise liblzma (error %d)",
					  job->path, (int)lret);
	}
	*state = strm;
	return NULL;
}

static enum step xz_step(struct job *job, void *state, const uint8_t *in, size_t in_len,
			 uint8_t *out, size_t out_len, size_t *used, size_t *made,
			 struct ac_error **err)
{
	lzma_stream *strm = state;
	strm->next_in = in;
	strm->avail_in = in_len;
	strm->next_out = out;
	strm->avail_out = out_len;
	lzma_ret lret = lzma_code(strm, job->in_eof ? LZMA_FINISH : LZMA_RUN);
	*used = in_len - strm->avail_in;
	*made = out_len - strm->avail_out;
	const char *what = NULL;
	switch (lret) {
	case LZMA_OK:
		return STEP_MORE;
	case LZMA_STREAM_END:
		return STEP_END;
	case LZMA_BUF_ERROR:
		return STEP_MORE;  /* no progress: the loop calls it truncation */
	case LZMA_MEM_ERROR:
		*err = &ac_error_no_memory;
		return STEP_ERROR;
	case LZMA_FORMAT_ERROR: what = "not in .xz format"; break;
	case LZMA_OPTIONS_ERROR: what = "unsupported compression options"; break;
	case LZMA_DATA_ERROR: what = "compressed data is corrupt"; break;
	case LZMA_MEMLIMIT_ERROR: what = "memory usage limit reached"; break;
	default: what = "internal liblzma error"; break;
	}
	*err = corrupt(job, strm->avail_in, what);
	return STEP_ERROR;
}

static void xz_end(void *state)
{
	lzma_end(state);
	free(state);
}

/* zstd: several frames may follow each other (zstd, pzstd). */
struct zstd_state {
	ZSTD_DCtx *dctx;
	size_t last;   /* 0 once a frame is complete and fully flushed */
};

static struct ac_error *zstd_init(struct job *job, void **state)
{
	(void)job;
	struct zstd_state *z = calloc(1, sizeof(*z));
	if (!z || !(z->dctx = ZSTD_createDCtx())) {
		free(z);
		return &ac_error_no_memory;
	}
	ZSTD_DCtx_setParameter(z->dctx, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX);
	z->last = 1;
	*state = z;
	return NULL;
}

static enum step zstd_step(struct job *job, void *state, const uint8_t *in, size_t in_len,
			   uint8_t *out, size_t out_len, size_t *used, size_t *made,
			   struct ac_error **err)
{
	struct zstd_state *z = state;
	if (!in_len && job->in_eof && z->last == 0)
		return STEP_END;
	ZSTD_inBuffer ib = { in, in_len, 0 };
	ZSTD_outBuffer ob = { out, out_len, 0 };
	size_t zret = ZSTD_decompressStream(z->dctx, &ob, &ib);
	*used = ib.pos;
	*made = ob.pos;
	if (ZSTD_isError(zret)) {
		*err = ZSTD_getErrorCode(zret) == ZSTD_error_memory_allocation
			? &ac_error_no_memory
			: corrupt(job, in_len - ib.pos, ZSTD_getErrorName(zret));
		return STEP_ERROR;
	}
	z->last = zret;
	return STEP_MORE;
}

static void zstd_end(void *state)
{
	struct zstd_state *z = state;
	ZSTD_freeDCtx(z->dctx);
	free(z);
}

/* Not compressed (a pipe): copied. */
static enum step copy_step(struct job *job, void *state, const uint8_t *in, size_t in_len,
			   uint8_t *out, size_t out_len, size_t *used, size_t *made,
			   struct ac_error **err)
{
	(void)state;
	(void)err;
	if (!in_len && job->in_eof)
		return STEP_END;
	size_t n = in_len < out_len ? in_len : out_len;
	memcpy(out, in, n);
	*used = *made = n;
	return STEP_MORE;
}

static const struct codec codecs[] = {
	[AC_COMPRESSION_NONE] = { NULL, copy_step, NULL },
	[AC_COMPRESSION_GZIP] = { gzip_init, gzip_step, gzip_end },
	[AC_COMPRESSION_XZ] = { xz_init, xz_step, xz_end },
	[AC_COMPRESSION_ZSTD] = { zstd_init, zstd_step, zstd_end },
};

/* The one loop: read, decode a step, write out full buffers. */
static struct ac_error *spool(struct job *job, const struct codec *codec,
			      const void *prefix, size_t prefix_len)
{
	void *state = NULL;
	struct ac_error *err = codec->init ? codec->init(job, &state) : NULL;
	if (err)
		return err;
	/* The magic the caller already read comes first. */
	if (prefix_len)
		memcpy(job->in_buf, prefix, prefix_len);
	job->in_total = prefix_len;
	size_t in_pos = 0, in_len = prefix_len;
	unsigned stuck = 0;  /* steps at end of input that did nothing */
	for (;;) {
		if (in_pos == in_len && !job->in_eof) {
			if ((err = read_input(job, &in_len)))
				break;
			in_pos = 0;
		}
		size_t used = 0, made = 0;
		enum step r = codec->step(job, state, job->in_buf + in_pos, in_len - in_pos,
					  job->out_buf + job->out_used,
					  OUT_BUF_SIZE - job->out_used, &used, &made, &err);
		in_pos += used;
		job->out_used += made;
		if (r == STEP_ERROR)
			break;
		if (job->out_used == OUT_BUF_SIZE && (err = flush_output(job)))
			break;
		if (r == STEP_END)
			break;
		/* Input is gone and the decoder still wants more. */
		if (job->in_eof && in_pos == in_len && !used && !made) {
			if (++stuck >= 2) {
				err = truncated(job);
				break;
			}
		} else {
			stuck = 0;
		}
	}
	if (codec->end)
		codec->end(state);
	return err;
}

/* A job's buffers, and its temp file unless it was handed out. */
static void job_cleanup(struct job *job)
{
	free(job->in_buf);
	free(job->out_buf);
	if (job->out_fd >= 0)
		close(job->out_fd);
}

struct ac_error *ac_decompress_fd_to_temp(int in_fd, const char *name, enum ac_compression c,
					  const void *prefix, size_t prefix_len,
					  const struct ac_decompress_options *opts,
					  int *ret_fd)
{
	if ((unsigned)c >= sizeof(codecs) / sizeof(codecs[0]) || prefix_len > IN_BUF_SIZE)
		return ac_error_create(AC_ERR_USAGE, "%s: unknown compression %d", name, (int)c);
	_cleanup_(job_cleanup) struct job job = {
		.path = name,
		.kind = ac_compression_name(c),
		.in_fd = in_fd,
		.out_fd = -1,
		.tmpdir = temp_dir(),
		.max_size = opts && opts->max_size ? opts->max_size
						   : AC_DECOMPRESS_DEFAULT_MAX_SIZE,
		.progress = opts ? opts->progress : NULL,
		.progress_arg = opts ? opts->progress_arg : NULL,
		.next_progress = PROGRESS_INTERVAL,
	};
	struct ac_error *err = NULL;
	posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	job.in_buf = malloc(IN_BUF_SIZE);
	job.out_buf = malloc(OUT_BUF_SIZE);
	if (!job.in_buf || !job.out_buf)
		return &ac_error_no_memory;
	if ((err = create_temp(name, job.tmpdir, &job.out_fd)))
		return err;
	if ((err = spool(&job, &codecs[c], prefix, prefix_len)) || (err = flush_output(&job)))
		return err;
	/* Extend over a trailing hole. */
	while (ftruncate(job.out_fd, (off_t)job.out_total) < 0)
		if (errno != EINTR)
			return write_error(&job, errno);
	if (job.progress)
		job.progress(job.out_total, job.progress_arg);
	*ret_fd = job.out_fd;
	job.out_fd = -1;
	return NULL;
}

struct ac_error *ac_decompress_to_temp_opts(const char *path, enum ac_compression c,
					    const struct ac_decompress_options *opts,
					    char **ret_path)
{
	if (c == AC_COMPRESSION_NONE || (unsigned)c >= sizeof(codecs) / sizeof(codecs[0]))
		return ac_error_create(AC_ERR_USAGE, "%s: nothing to decompress (compression %s)",
				       path, ac_compression_name(c));
	int in_fd, out_fd;
	struct ac_error *err = ac_input_open(path, false, &in_fd);
	if (err)
		return err;
	err = ac_decompress_fd_to_temp(in_fd, path, c, NULL, 0, opts, &out_fd);
	close(in_fd);
	if (err)
		return err;
	if (asprintf(ret_path, "/proc/self/fd/%d", out_fd) < 0) {
		close(out_fd);
		return &ac_error_no_memory;
	}
	return NULL;
}

struct ac_error *ac_decompress_to_temp(const char *path, enum ac_compression c,
				       char **ret_path)
{
	return ac_decompress_to_temp_opts(path, c, NULL, ret_path);
}

void ac_decompressed_remove(char *temp_path)
{
	if (!temp_path)
		return;
	int fd;
	if (sscanf(temp_path, "/proc/self/fd/%d", &fd) == 1 && fd > 2)
		close(fd);
	free(temp_path);
}
