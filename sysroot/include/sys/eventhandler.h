/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: eventhandler(9).
 *
 * An event is a named list of (function, argument, priority) entries.
 * EVENTHANDLER_DECLARE(name, type) gives the entry type for an event
 * whose handlers have function-pointer type "type"; invoking the event
 * walks its list and calls each live handler.
 */

#ifndef _SYS_EVENTHANDLER_H_
#define	_SYS_EVENTHANDLER_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/kernel.h>
#include <sys/queue.h>
#include <sys/_lock.h>
#include <sys/_mutex.h>
#include <sys/mutex.h>

struct eventhandler_entry {
	TAILQ_ENTRY(eventhandler_entry)	ee_link;
	int				ee_priority;
#define	EHE_DEAD_PRIORITY	(-1)	/* deregistered, awaiting pruning */
	void				*ee_arg;
};

struct eventhandler_list {
	char				*el_name;
	int				el_flags;	/* unused */
	u_int				el_runcount;	/* running invokers */
	struct mtx			el_lock;
	TAILQ_ENTRY(eventhandler_list)	el_link;
	TAILQ_HEAD(, eventhandler_entry) el_entries;
};

typedef struct eventhandler_entry	*eventhandler_tag;

#define	EVENTHANDLER_PRI_FIRST	0
#define	EVENTHANDLER_PRI_ANY	10000
#define	EVENTHANDLER_PRI_LAST	20000

/* The entry for event "name": the common part plus the handler. */
#define	EVENTHANDLER_DECLARE(name, type)				\
struct eventhandler_entry_ ## name {					\
	struct eventhandler_entry	ee;				\
	type				eh_func;		\
};									\
struct __hack

/* Register func for event name at SI_SUB_CONFIGURE time. */
#define	EVENTHANDLER_DEFINE(name, func, arg, priority)			\
	static eventhandler_tag name ## _eh_tag;			\
	static void							\
	name ## _eh_sysinit(void *_eh_arg)				\
	{								\
		name ## _eh_tag = EVENTHANDLER_REGISTER(name, (func),	\
		    _eh_arg, (priority));				\
	}								\
	SYSINIT(name ## _eh_sysinit, SI_SUB_CONFIGURE, SI_ORDER_ANY,	\
	    name ## _eh_sysinit, (arg));				\
	struct __hack

/*
 * Call every live handler with (its argument, the event's arguments).
 * The list lock is dropped around each call; the run count keeps the
 * entries from being freed meanwhile, and the last runner prunes
 * entries deregistered in the interval.
 */
#define	_EVENTHANDLER_INVOKE(name, list, ...) do {			\
	struct eventhandler_entry *_ep;					\
	struct eventhandler_entry_ ## name *_t;				\
									\
	mtx_lock(&(list)->el_lock);					\
	(list)->el_runcount++;						\
	TAILQ_FOREACH(_ep, &((list)->el_entries), ee_link) {		\
		if (_ep->ee_priority != EHE_DEAD_PRIORITY) {		\
			mtx_unlock(&(list)->el_lock);			\
			_t = (struct eventhandler_entry_ ## name *)_ep;	\
			_t->eh_func(_ep->ee_arg , ## __VA_ARGS__);	\
			mtx_lock(&(list)->el_lock);			\
		}							\
	}								\
	(list)->el_runcount--;						\
	if ((list)->el_runcount == 0)					\
		eventhandler_prune_list(list);				\
	mtx_unlock(&(list)->el_lock);					\
} while (0)

#define	EVENTHANDLER_INVOKE(name, ...) do {				\
	struct eventhandler_list *_el;					\
									\
	if ((_el = eventhandler_find_list(#name)) != NULL)		\
		_EVENTHANDLER_INVOKE(name, _el , ## __VA_ARGS__);	\
} while (0)

#define	EVENTHANDLER_REGISTER(name, func, arg, priority)		\
	eventhandler_register(NULL, #name, (func), (arg), (priority))

#define	EVENTHANDLER_DEREGISTER(name, tag) do {				\
	struct eventhandler_list *_el;					\
									\
	if ((_el = eventhandler_find_list(#name)) != NULL)		\
		eventhandler_deregister(_el, (tag));			\
} while (0)

#define	EVENTHANDLER_DEREGISTER_NOWAIT(name, tag) do {			\
	struct eventhandler_list *_el;					\
									\
	if ((_el = eventhandler_find_list(#name)) != NULL)		\
		eventhandler_deregister_nowait(_el, (tag));		\
} while (0)

eventhandler_tag eventhandler_register(struct eventhandler_list *list,
	    const char *name, void *func, void *arg, int priority);
void	eventhandler_deregister(struct eventhandler_list *list,
	    eventhandler_tag tag);
void	eventhandler_deregister_nowait(struct eventhandler_list *list,
	    eventhandler_tag tag);
struct eventhandler_list *eventhandler_find_list(const char *name);
void	eventhandler_prune_list(struct eventhandler_list *list);

/*
 * VIMAGE: register once, be called in every vnet through the iterator.
 * Declared only under VIMAGE, as in FreeBSD: code built without it (the
 * run-time support file, say) must not rely on the typedef.
 */
#ifdef VIMAGE
typedef void (*vimage_iterator_func_t)(void *, ...);
eventhandler_tag vimage_eventhandler_register(struct eventhandler_list *list,
	    const char *name, void *func, void *arg, int priority,
	    vimage_iterator_func_t);
#endif

/* Generic events declared here, as in FreeBSD. */
typedef void (*shutdown_fn)(void *, int);
EVENTHANDLER_DECLARE(shutdown_pre_sync, shutdown_fn);
EVENTHANDLER_DECLARE(shutdown_post_sync, shutdown_fn);
EVENTHANDLER_DECLARE(shutdown_final, shutdown_fn);

typedef void (*vm_lowmem_handler_t)(void *, int);
EVENTHANDLER_DECLARE(vm_lowmem, vm_lowmem_handler_t);

typedef void (*mountroot_handler_t)(void *);
EVENTHANDLER_DECLARE(mountroot, mountroot_handler_t);

#endif /* !_SYS_EVENTHANDLER_H_ */
