/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A reference net/vnet.h for the tests of `vnetgen diff`, written for this
 * project in the layout of a stock FreeBSD 14 kernel header: the kernel's
 * one `#ifdef VIMAGE`, and no run-time variant.  Not FreeBSD's text.
 */

#ifndef _NET_VNET_H_
#define	_NET_VNET_H_

#if defined(_KERNEL) || defined(_WANT_VNET)
#include <sys/types.h>
#include <sys/queue.h>
#include <machine/param.h>

/* One network stack; the base of its copy of the set. */
struct vnet {
	LIST_ENTRY(vnet)	 vnet_le;
	u_int			 vnet_magic_n;
	u_int			 vnet_ifcnt;
	u_int			 vnet_sockcnt;
	u_int			 vnet_state;
	void			*vnet_data_mem;
	uintptr_t		 vnet_data_base;
	bool			 vnet_shutdown;
} __aligned(CACHE_LINE_SIZE);
#define	VNET_MAGIC_N	0x3e0d8f29

/* Section and prefix: read by libkvm and the debugger scripts. */
#define	VNET_SETNAME		"set_vnet"
#define	VNET_SYMPREFIX		"vnet_entry_"
#endif

#ifdef _KERNEL

#include <sys/linker_set.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/proc.h>
#include <sys/rwlock.h>
#include <sys/sx.h>
#include <sys/eventhandler.h>
#include <sys/sysctl.h>

#ifdef VIMAGE

#if defined(INVARIANTS) || defined(VNET_DEBUG)
#define	VNET_ASSERT(exp, msg)	do {					\
	if (!(exp))							\
		panic msg;						\
} while (0)
#else
#define	VNET_ASSERT(exp, msg)	do {					\
} while (0)
#endif

#define	CURVNET_SET_QUIET(arg)						\
	VNET_ASSERT((arg) != NULL && (arg)->vnet_magic_n == VNET_MAGIC_N, \
	    ("CURVNET_SET at %s:%d %s() curvnet=%p vnet=%p",		\
	    __FILE__, __LINE__, __func__, curvnet, (arg)));		\
	struct vnet *saved_vnet = curvnet;				\
	curvnet = arg;
#define	CURVNET_SET_VERBOSE(arg)	CURVNET_SET_QUIET(arg)
#define	CURVNET_SET(arg)	CURVNET_SET_QUIET(arg)
#define	CURVNET_RESTORE()						\
	VNET_ASSERT(curvnet != NULL && (saved_vnet == NULL ||		\
	    saved_vnet->vnet_magic_n == VNET_MAGIC_N),			\
	    ("CURVNET_RESTORE at %s:%d %s() curvnet=%p saved_vnet=%p",	\
	    __FILE__, __LINE__, __func__, curvnet, saved_vnet));	\
	curvnet = saved_vnet;
#define	CURVNET_ASSERT_SET()						\
	VNET_ASSERT(curvnet != NULL, ("vnet is not set at %s:%d %s()",	\
	    __FILE__, __LINE__, __func__))

extern struct vnet *vnet0;
#define	IS_DEFAULT_VNET(arg)	((arg) == vnet0)
#define	CRED_TO_VNET(cr)	(cr)->cr_prison->pr_vnet
#define	TD_TO_VNET(td)		CRED_TO_VNET((td)->td_ucred)
#define	P_TO_VNET(p)		CRED_TO_VNET((p)->p_ucred)

LIST_HEAD(vnet_list_head, vnet);
extern struct vnet_list_head vnet_head;
extern struct rwlock vnet_rwlock;
extern struct sx vnet_sxlock;

#define	VNET_LIST_RLOCK()		sx_slock(&vnet_sxlock)
#define	VNET_LIST_RLOCK_NOSLEEP()	rw_rlock(&vnet_rwlock)
#define	VNET_LIST_RUNLOCK()		sx_sunlock(&vnet_sxlock)
#define	VNET_LIST_RUNLOCK_NOSLEEP()	rw_runlock(&vnet_rwlock)
#define	VNET_ITERATOR_DECL(arg)	struct vnet *arg
#define	VNET_FOREACH(arg)	LIST_FOREACH((arg), &vnet_head, vnet_le)

#define	VNET_NAME(n)		vnet_entry_##n
#define	VNET_DECLARE(t, n)	extern t VNET_NAME(n)
#define	VNET_DEFINE(t, n)						\
	struct _hack; t VNET_NAME(n) __section(VNET_SETNAME) __used
#if defined(KLD_MODULE) && (defined(__aarch64__) || defined(__riscv) \
    || defined(__powerpc64__) || defined(__i386__))
#define	VNET_DEFINE_STATIC(t, n)					\
	struct _hack; t VNET_NAME(n) __section(VNET_SETNAME) __used
#else
#define	VNET_DEFINE_STATIC(t, n)					\
	static t VNET_NAME(n) __section(VNET_SETNAME) __used
#endif

#define	_VNET_PTR(b, n)		(__typeof(VNET_NAME(n))*)		\
				    ((b) + (uintptr_t)&VNET_NAME(n))
#define	_VNET(b, n)		(*_VNET_PTR(b, n))
#define	VNET_VNET_PTR(vnet, n)	_VNET_PTR((vnet)->vnet_data_base, n)
#define	VNET_VNET(vnet, n)	(*VNET_VNET_PTR((vnet), n))
#define	VNET_PTR(n)		VNET_VNET_PTR(curvnet, n)
#define	VNET(n)			(*VNET_PTR(n))

void	*vnet_data_alloc(int size);
void	 vnet_data_copy(void *start, int size);
void	 vnet_data_free(void *start_arg, int size);

struct vnet_sysinit {
	enum sysinit_sub_id	subsystem;
	enum sysinit_elem_order	order;
	sysinit_cfunc_t		func;
	const void		*arg;
	TAILQ_ENTRY(vnet_sysinit) link;
};

void	vnet_register_sysinit(void *arg);
void	vnet_register_sysuninit(void *arg);
void	vnet_deregister_sysinit(void *arg);
void	vnet_deregister_sysuninit(void *arg);

#define	VNET_SYSINIT(ident, subsystem, order, func, arg)		\
	CTASSERT((subsystem) > SI_SUB_VNET &&				\
	    (subsystem) <= SI_SUB_VNET_DONE);				\
	static struct vnet_sysinit ident ## _vnet_init = {		\
		subsystem,						\
		order,							\
		(sysinit_cfunc_t)(sysinit_nfunc_t)func,			\
		(arg)							\
	};								\
	SYSINIT(vnet_init_ ## ident, subsystem, order,			\
	    vnet_register_sysinit, &ident ## _vnet_init);		\
	SYSUNINIT(vnet_init_ ## ident, subsystem, order,		\
	    vnet_deregister_sysinit, &ident ## _vnet_init)
#define	VNET_SYSUNINIT(ident, subsystem, order, func, arg)		\
	CTASSERT((subsystem) > SI_SUB_VNET &&				\
	    (subsystem) <= SI_SUB_VNET_DONE);				\
	static struct vnet_sysinit ident ## _vnet_uninit = {		\
		subsystem,						\
		order,							\
		(sysinit_cfunc_t)(sysinit_nfunc_t)func,			\
		(arg)							\
	};								\
	SYSINIT(vnet_uninit_ ## ident, subsystem, order,		\
	    vnet_register_sysuninit, &ident ## _vnet_uninit);		\
	SYSUNINIT(vnet_uninit_ ## ident, subsystem, order,		\
	    vnet_deregister_sysuninit, &ident ## _vnet_uninit)

void	vnet_global_eventhandler_iterator_func(void *, ...);
#define	VNET_GLOBAL_EVENTHANDLER_REGISTER_TAG(tag, name, func, arg, priority) \
do {									\
	if (IS_DEFAULT_VNET(curvnet)) {					\
		(tag) = vimage_eventhandler_register(NULL, #name, func,	\
		    arg, priority,					\
		    vnet_global_eventhandler_iterator_func);		\
	}								\
} while (0)
#define	VNET_GLOBAL_EVENTHANDLER_REGISTER(name, func, arg, priority)	\
do {									\
	if (IS_DEFAULT_VNET(curvnet)) {					\
		vimage_eventhandler_register(NULL, #name, func,		\
		    arg, priority,					\
		    vnet_global_eventhandler_iterator_func);		\
	}								\
} while (0)

#else /* !VIMAGE */

#define	CURVNET_SET(arg)
#define	CURVNET_SET_QUIET(arg)
#define	CURVNET_SET_VERBOSE(arg)
#define	CURVNET_RESTORE()
#define	CURVNET_ASSERT_SET()
#define	VNET_ASSERT(exp, msg)
#define	IS_DEFAULT_VNET(arg)	1
#define	CRED_TO_VNET(cr)	NULL
#define	TD_TO_VNET(td)		NULL
#define	P_TO_VNET(p)		NULL

#define	VNET_LIST_RLOCK()
#define	VNET_LIST_RLOCK_NOSLEEP()
#define	VNET_LIST_RUNLOCK()
#define	VNET_LIST_RUNLOCK_NOSLEEP()
#define	VNET_ITERATOR_DECL(arg)
#define	VNET_FOREACH(arg)

#define	VNET_NAME(n)		n
#define	VNET_DECLARE(t, n)	extern t n
#define	VNET_DEFINE(t, n)	struct _hack; t n
#define	VNET_DEFINE_STATIC(t, n)	static t n
#define	VNET_VNET_PTR(vnet, n)	(&(n))
#define	VNET_VNET(vnet, n)	(n)
#define	VNET_PTR(n)		(&(n))
#define	VNET(n)			(n)

#define	VNET_SYSINIT(ident, subsystem, order, func, arg)		\
	SYSINIT(ident, subsystem, order, func, arg)
#define	VNET_SYSUNINIT(ident, subsystem, order, func, arg)		\
	SYSUNINIT(ident, subsystem, order, func, arg)
#define	VNET_GLOBAL_EVENTHANDLER_REGISTER_TAG(tag, name, func, arg, priority) \
	(tag) = eventhandler_register(NULL, #name, func, arg, priority)
#define	VNET_GLOBAL_EVENTHANDLER_REGISTER(name, func, arg, priority)	\
	eventhandler_register(NULL, #name, func, arg, priority)

#endif /* VIMAGE */

/* The same in both: curthread always carries td_vnet. */
#ifdef VIMAGE
#define	curvnet			curthread->td_vnet
#else
#define	curvnet			NULL
#endif

#endif /* _KERNEL */

#endif /* !_NET_VNET_H_ */
