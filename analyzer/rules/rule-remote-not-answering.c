/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * remote-not-answering: an NBD client node has requests in flight and their
 * coroutines are parked waiting for the server's replies.  One core cannot
 * tell a stalled server from a slow one, so the confidence is medium; the
 * next step is the server, named from the node's SocketAddress.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule.h"

/* "nbd_receive_replies <- nbd_co_do_receive_one_chunk <- ..." into buf. */
static const char *parked_in(const struct ac_coroutine *co, char *buf, size_t size)
{
	size_t len = 0, shown = 0;
	buf[0] = '\0';
	if (!co->bt)
		return co->running ? "running" : "?";
	for (size_t i = 0; i < co->bt->n_frames && shown < 3; i++) {
		const char *name = co->bt->frames[i].function;
		/* Skip the switch and channel machinery: show which NBD step waits. */
		if (!name || !strncmp(name, "qemu_coroutine_", 15) || !strncmp(name, "qemu_co_", 8) ||
		    !strncmp(name, "qio_channel_", 12) || strstr(name, "sigjmp") ||
		    !strcmp(name, "coroutine_swap"))   /* 2.1's switch */
			continue;
		int n = snprintf(buf + len, size - len, "%s%s", shown ? " <- " : "", name);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
		shown++;
	}
	return shown ? buf : "?";
}

static const struct ac_coroutine *find_co(const struct ac_coroutine_list *list, uint64_t address)
{
	for (size_t i = 0; i < list->n; i++)
		if (list->items[i].address == address)
			return &list->items[i];
	return NULL;
}

static void coroutine_evidence(struct ac_finding *f, const char *what,
			       const struct ac_coroutine *co)
{
	char where[256];
	if (co->running)
		ac_finding_evidence(f, what,
				    ac_evidence_at(AC_ADDRESS(co->address), .tid = co->current_in_tid),
				    "entry=%s running", co->entry_name ? co->entry_name : "?");
	else
		ac_finding_evidence(f, what, ac_evidence_at(AC_ADDRESS(co->address)),
				    "entry=%s suspended in %s",
				    co->entry_name ? co->entry_name : "?",
				    parked_in(co, where, sizeof(where)));
}

/* 2.x's recv_coroutine[i]: the coroutine, and its tracked request if found. */
static void slot_2x_evidence(struct ac_finding *f, const char *what,
			     const struct ac_nbd_request *req)
{
	if (req->has_offset)
		ac_finding_evidence(f, what, ac_evidence_at(AC_ADDRESS(req->address)),
				    "coroutine 0x%" PRIx64 ", its request at offset %" PRIu64
				    ", %" PRIu64 " bytes (the node's tracked request)",
				    req->coroutine, req->offset, req->bytes);
	else
		ac_finding_evidence(f, what, ac_evidence_at(AC_ADDRESS(req->address)),
				    "coroutine 0x%" PRIx64 " (no tracked request on the node)",
				    req->coroutine);
}

static size_t count_waiting(const struct ac_nbd_client *c, const struct ac_coroutine_list *cos)
{
	size_t waiting = 0;
	for (size_t r = 0; r < c->n_requests; r++) {
		const struct ac_coroutine *co = find_co(cos, c->requests[r].coroutine);
		waiting += co && !co->running && !co->problem;
	}
	return waiting;
}

static struct ac_finding *add_finding(struct ac_findings *findings,
				      const struct ac_nbd_client *c, const char *server,
				      size_t waiting)
{
	char label[96];
	return ac_findings_add(findings, "remote-not-answering", AC_CONFIDENCE_MEDIUM,
		"NBD server %s has not replied to %s: %zu request%s in flight, %zu coroutine%s parked waiting for replies; a single core cannot tell stalled from slow",
		server, ac_nbd_client_label(c, label, sizeof(label)), c->n_requests,
		c->n_requests == 1 ? "" : "s", waiting, waiting == 1 ? "" : "s");
}

void ac_rule_remote_not_answering(struct ac_program *prog, const struct ac_analysis *a,
				  struct ac_findings *findings)
{
	for (size_t i = 0; i < a->nbd.n; i++) {
		const struct ac_nbd_client *c = &a->nbd.items[i];
		char label[96];
		const char *server = c->server ? c->server : "(address unknown)";
		if (!c->n_requests) {
			ac_findings_checked(findings, "remote-not-answering: NBD %s (%s): no request in flight",
					    ac_nbd_client_label(c, label, sizeof(label)), server);
			continue;
		}
		/* The requests' coroutines, unwound to where they wait. */
		size_t n_seeds = 0;
		struct ac_coroutine_seed *seeds = calloc(c->n_requests + 1, sizeof(*seeds));
		if (!seeds)
			return;
		for (size_t r = 0; r < c->n_requests; r++)
			seeds[n_seeds++] = (struct ac_coroutine_seed){ c->requests[r].coroutine,
								       "NBD request" };
		if (c->connection_co)
			seeds[n_seeds++] = (struct ac_coroutine_seed){ c->connection_co,
								       "NBD connection_co" };
		struct ac_coroutine_list cos = { 0 };
		struct ac_error *err = ac_coroutines_decode(prog, seeds, n_seeds, true, &cos);
		free(seeds);
		if (err) {
			ac_program_note_error(prog, err, "NBD client coroutines");
			continue;
		}
		size_t waiting = count_waiting(c, &cos);
		ac_findings_checked(findings, "remote-not-answering: NBD %s (%s): %zu request%s in flight, %zu waiting for replies",
				    ac_nbd_client_label(c, label, sizeof(label)), server, c->n_requests,
				    c->n_requests == 1 ? "" : "s", waiting);
		if (!waiting) {
			ac_coroutine_list_deinit(&cos);
			continue;               /* a request is being worked on: not parked */
		}
		struct ac_finding *f = add_finding(findings, c, server, waiting);
		if (!f) {
			ac_coroutine_list_deinit(&cos);
			return;
		}
		char what[64];
		ac_finding_evidence(f, "NBD server",
				    ac_evidence_at(.has_address = c->server_field != 0, .address = c->server_field),
				    "%s (export \"%s\", socket fd %d)", server,
				    c->export_name ? c->export_name : "?", c->fd);
		if (c->has_state) {
			snprintf(what, sizeof(what), "%s.state", c->state_type);
			ac_finding_evidence(f, what, ac_evidence_at(AC_ADDRESS(c->state_address)),
					    "%s (%" PRId64 ")", c->state_name ? c->state_name : "?",
					    c->state);
		}
		if (c->has_in_flight) {
			snprintf(what, sizeof(what), "%s.in_flight", c->state_type);
			ac_finding_evidence(f, what, ac_evidence_at(AC_ADDRESS(c->state_address)),
					    "%" PRId64, c->in_flight);
		}
		for (size_t r = 0; r < c->n_requests; r++) {
			const struct ac_nbd_request *req = &c->requests[r];
			snprintf(what, sizeof(what), "%s[%zu]", c->slots ? c->slots : "requests",
				 req->index);
			if (c->slots && !strcmp(c->slots, "recv_coroutine"))   /* 2.x: a handle's coroutine */
				slot_2x_evidence(f, what, req);
			else
				ac_finding_evidence(f, what, ac_evidence_at(AC_ADDRESS(req->address)),
						    "offset %" PRIu64 ", coroutine 0x%" PRIx64 "%s",
						    req->offset, req->coroutine,
						    !req->has_receiving ? ""
						    : req->receiving ? ", receiving (parked until its reply)"
						    : ", not receiving (sending, or reading the reply header)");
		}
		for (size_t r = 0; r < c->n_requests; r++) {
			const struct ac_coroutine *co = find_co(&cos, c->requests[r].coroutine);
			if (co)
				coroutine_evidence(f, "waiting coroutine", co);
		}
		if (c->receive_holder)
			ac_finding_evidence(f, "receive_mutex.holder",
					    ac_evidence_at(AC_ADDRESS(c->state_address)),
					    "coroutine 0x%" PRIx64 " reads the next reply header",
					    c->receive_holder);
		/* The other requests' coroutines queue on the CoMutex it holds. */
		for (size_t l = 0; c->receive_holder && l < a->co_locks.n; l++) {
			const struct ac_co_lock *lock = &a->co_locks.items[l];
			if (lock->holder == c->receive_holder && lock->n_waiters)
				ac_finding_evidence(f, "CoMutex waiters",
						    ac_evidence_at(AC_ADDRESS(lock->address)),
						    "%zu coroutine%s wait for %s, held by coroutine 0x%"
						    PRIx64, lock->n_waiters,
						    lock->n_waiters == 1 ? "" : "s", lock->name,
						    lock->holder);
		}
		const struct ac_coroutine *conn = c->connection_co ? find_co(&cos, c->connection_co)
								   : NULL;
		if (conn)
			coroutine_evidence(f, "connection_co", conn);
		ac_finding_evidence(f, "next step", ac_evidence_at(),
				    "check the NBD server at %s: is it running, stopped (SIGSTOP, "
				    "gdb), or its storage stalled? Two cores seconds apart tell "
				    "stalled from slow", server);
		ac_coroutine_list_deinit(&cos);
	}
}
