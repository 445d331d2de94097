/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Intrusive lists with QEMU's member names (lh_first, le_next, le_prev,
 * slh_first, sle_next, sqh_first, sqe_next, tqh_first, tqe_next, ...), so
 * that a debugger or aiocore walks our lists exactly like QEMU's.
 *
 * QTAILQ has two layouts: QEMU 2.x used { first; last } / { next; prev },
 * QEMU 4.0+ wraps them in unions with a QTailQLink.  AIOCORE_PROFILE picks.
 */
#ifndef AIOCORE_QEMU_QUEUE_H
#define AIOCORE_QEMU_QUEUE_H

#include <stddef.h>

/* ---- QLIST: doubly linked, head insertion ---- */
#define QLIST_HEAD(name, type) struct name { struct type *lh_first; }
#define QLIST_ENTRY(type) struct { struct type *le_next; struct type **le_prev; }
#define QLIST_INIT(head) ((head)->lh_first = NULL)
#define QLIST_EMPTY(head) ((head)->lh_first == NULL)
#define QLIST_FIRST(head) ((head)->lh_first)
#define QLIST_NEXT(elm, field) ((elm)->field.le_next)
#define QLIST_INSERT_HEAD(head, elm, field) do {                         \
	if (((elm)->field.le_next = (head)->lh_first) != NULL)           \
		(head)->lh_first->field.le_prev = &(elm)->field.le_next; \
	(head)->lh_first = (elm);                                        \
	(elm)->field.le_prev = &(head)->lh_first;                        \
} while (0)
#define QLIST_REMOVE(elm, field) do {                                    \
	if ((elm)->field.le_next != NULL)                                \
		(elm)->field.le_next->field.le_prev = (elm)->field.le_prev; \
	*(elm)->field.le_prev = (elm)->field.le_next;                    \
	(elm)->field.le_next = NULL;                                     \
	(elm)->field.le_prev = NULL;                                     \
} while (0)
#define QLIST_FOREACH(var, head, field) \
	for ((var) = (head)->lh_first; (var); (var) = (var)->field.le_next)
#define QLIST_FOREACH_SAFE(var, head, field, next_var)                  \
	for ((var) = (head)->lh_first;                                  \
	     (var) && ((next_var) = (var)->field.le_next, 1);           \
	     (var) = (next_var))

/* ---- QSLIST: singly linked, with lock-free head insertion ---- */
#define QSLIST_HEAD(name, type) struct name { struct type *slh_first; }
#define QSLIST_ENTRY(type) struct { struct type *sle_next; }
#define QSLIST_INIT(head) ((head)->slh_first = NULL)
#define QSLIST_EMPTY(head) ((head)->slh_first == NULL)
#define QSLIST_FIRST(head) ((head)->slh_first)
#define QSLIST_NEXT(elm, field) ((elm)->field.sle_next)
#define QSLIST_INSERT_HEAD(head, elm, field) do {        \
	(elm)->field.sle_next = (head)->slh_first;       \
	(head)->slh_first = (elm);                       \
} while (0)
/* Producers on any thread; the consumer takes the whole list at once. */
#define QSLIST_INSERT_HEAD_ATOMIC(head, elm, field) do {                     \
	typeof(elm) save_sle_next;                                           \
	do {                                                                 \
		save_sle_next = (elm)->field.sle_next =                      \
			__atomic_load_n(&(head)->slh_first, __ATOMIC_RELAXED); \
	} while (!__atomic_compare_exchange_n(&(head)->slh_first,           \
			&save_sle_next, (elm), false,                        \
			__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));                \
} while (0)
#define QSLIST_MOVE_ATOMIC(dest, src) \
	((dest)->slh_first = __atomic_exchange_n(&(src)->slh_first, NULL, __ATOMIC_SEQ_CST))
#define QSLIST_REMOVE_HEAD(head, field) do {                         \
	typeof((head)->slh_first) elm_ = (head)->slh_first;          \
	(head)->slh_first = elm_->field.sle_next;                    \
	elm_->field.sle_next = NULL;                                 \
} while (0)
#define QSLIST_FOREACH(var, head, field) \
	for ((var) = (head)->slh_first; (var); (var) = (var)->field.sle_next)

/* ---- QSIMPLEQ: singly linked tail queue ---- */
#define QSIMPLEQ_HEAD(name, type) struct name { struct type *sqh_first; struct type **sqh_last; }
#define QSIMPLEQ_ENTRY(type) struct { struct type *sqe_next; }
#define QSIMPLEQ_INIT(head) do {                         \
	(head)->sqh_first = NULL;                        \
	(head)->sqh_last = &(head)->sqh_first;           \
} while (0)
#define QSIMPLEQ_EMPTY(head) ((head)->sqh_first == NULL)
#define QSIMPLEQ_FIRST(head) ((head)->sqh_first)
#define QSIMPLEQ_INSERT_TAIL(head, elm, field) do {      \
	(elm)->field.sqe_next = NULL;                    \
	*(head)->sqh_last = (elm);                       \
	(head)->sqh_last = &(elm)->field.sqe_next;       \
} while (0)
#define QSIMPLEQ_REMOVE_HEAD(head, field) do {                                \
	if (((head)->sqh_first = (head)->sqh_first->field.sqe_next) == NULL)  \
		(head)->sqh_last = &(head)->sqh_first;                        \
} while (0)

/* ---- QTAILQ ---- */
#if AIOCORE_PROFILE == 2
#define QTAILQ_HEAD(name, type) struct name { struct type *tqh_first; struct type **tqh_last; }
#define QTAILQ_ENTRY(type) struct { struct type *tqe_next; struct type **tqe_prev; }
#define QTAILQ_INIT(head) do {                                \
	(head)->tqh_first = NULL;                             \
	(head)->tqh_last = &(head)->tqh_first;                \
} while (0)
#define QTAILQ_INSERT_TAIL(head, elm, field) do {             \
	(elm)->field.tqe_next = NULL;                         \
	(elm)->field.tqe_prev = (head)->tqh_last;             \
	*(head)->tqh_last = (elm);                            \
	(head)->tqh_last = &(elm)->field.tqe_next;            \
} while (0)
#define QTAILQ_REMOVE(head, elm, field) do {                               \
	if ((elm)->field.tqe_next != NULL)                                 \
		(elm)->field.tqe_next->field.tqe_prev = (elm)->field.tqe_prev; \
	else                                                               \
		(head)->tqh_last = (elm)->field.tqe_prev;                  \
	*(elm)->field.tqe_prev = (elm)->field.tqe_next;                    \
	(elm)->field.tqe_prev = NULL;                                      \
} while (0)
#define QTAILQ_IN_USE(elm, field) ((elm)->field.tqe_prev != NULL)
#else
/* QEMU 4.0+: one link type so that the last-element pointer is a real link. */
typedef struct QTailQLink {
	void *tql_next;
	struct QTailQLink *tql_prev;
} QTailQLink;
#define QTAILQ_HEAD(name, type) union name { struct type *tqh_first; QTailQLink tqh_circ; }
#define QTAILQ_ENTRY(type) union { struct type *tqe_next; QTailQLink tqe_circ; }
#define QTAILQ_INIT(head) do {                                     \
	(head)->tqh_first = NULL;                                  \
	(head)->tqh_circ.tql_prev = &(head)->tqh_circ;             \
} while (0)
#define QTAILQ_INSERT_TAIL(head, elm, field) do {                       \
	(elm)->field.tqe_next = NULL;                                   \
	(elm)->field.tqe_circ.tql_prev = (head)->tqh_circ.tql_prev;     \
	(head)->tqh_circ.tql_prev->tql_next = (elm);                    \
	(head)->tqh_circ.tql_prev = &(elm)->field.tqe_circ;             \
} while (0)
#define QTAILQ_REMOVE(head, elm, field) do {                                      \
	if ((elm)->field.tqe_next != NULL)                                        \
		(elm)->field.tqe_next->field.tqe_circ.tql_prev =                  \
			(elm)->field.tqe_circ.tql_prev;                           \
	else                                                                      \
		(head)->tqh_circ.tql_prev = (elm)->field.tqe_circ.tql_prev;       \
	(elm)->field.tqe_circ.tql_prev->tql_next = (elm)->field.tqe_next;         \
	(elm)->field.tqe_circ.tql_prev = NULL;                                    \
} while (0)
#define QTAILQ_IN_USE(elm, field) ((elm)->field.tqe_circ.tql_prev != NULL)
#endif
#define QTAILQ_EMPTY(head) ((head)->tqh_first == NULL)
#define QTAILQ_FIRST(head) ((head)->tqh_first)
#define QTAILQ_NEXT(elm, field) ((elm)->field.tqe_next)
#define QTAILQ_FOREACH(var, head, field) \
	for ((var) = (head)->tqh_first; (var); (var) = (var)->field.tqe_next)

#endif
