/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: boot-time ordering (SYSINIT) and a
 * few global clock variables.
 */

#ifndef _SYS_KERNEL_H_
#define	_SYS_KERNEL_H_

#include <sys/cdefs.h>
#include <sys/linker_set.h>

extern int		hz;		/* clock interrupts per second */
extern volatile int	ticks;		/* hardclock ticks since boot */

/*
 * Subsystems, in the order the kernel (and the module loader) starts
 * them.  The values are FreeBSD's and are part of the module ABI.
 */
enum sysinit_sub_id {
	SI_SUB_DUMMY			= 0x0000000,
	SI_SUB_TUNABLES			= 0x0700000,
	SI_SUB_COPYRIGHT		= 0x0800001,
	SI_SUB_VM			= 0x1000000,
	SI_SUB_COUNTER			= 0x1100000,
	SI_SUB_KMEM			= 0x1800000,
	SI_SUB_LOCK			= 0x1B00000,
	SI_SUB_EVENTHANDLER		= 0x1C00000,
	SI_SUB_VNET_PRELINK		= 0x1E00000,
	SI_SUB_KLD			= 0x2000000,
	SI_SUB_CPU			= 0x2100000,
	SI_SUB_VNET			= 0x21E0000,
	SI_SUB_INIT_IF			= 0x3000000,
	SI_SUB_DRIVERS			= 0x3100000,
	SI_SUB_CONFIGURE		= 0x3800000,
	SI_SUB_PSEUDO			= 0x7000000,
	SI_SUB_PROTO_BEGIN		= 0x8000000,
	SI_SUB_PROTO_IF			= 0x8400000,
	SI_SUB_PROTO_DOMAIN		= 0x8800000,
	SI_SUB_PROTO_IFATTACHDOMAIN	= 0x8808000,
	SI_SUB_PROTO_END		= 0x8ffffff,
	SI_SUB_VNET_DONE		= 0xdc00000,
	SI_SUB_SMP			= 0xf000000,
	SI_SUB_LAST			= 0xfffffff
};

/* Order of entries within one subsystem. */
enum sysinit_elem_order {
	SI_ORDER_FIRST			= 0x0000000,
	SI_ORDER_SECOND			= 0x0000001,
	SI_ORDER_THIRD			= 0x0000002,
	SI_ORDER_FOURTH			= 0x0000003,
	SI_ORDER_FIFTH			= 0x0000004,
	SI_ORDER_SIXTH			= 0x0000005,
	SI_ORDER_SEVENTH		= 0x0000006,
	SI_ORDER_EIGHTH			= 0x0000007,
	SI_ORDER_MIDDLE			= 0x1000000,
	SI_ORDER_ANY			= 0xfffffff
};

typedef void (*sysinit_nfunc_t)(void *);
typedef void (*sysinit_cfunc_t)(const void *);

/*
 * struct sysinit, one boot-time call, is read by the kernel linker at its
 * release's layout (15.1 adds a list link after `order`): vnetgen's
 * src/kld/abi.rs defines it once, for the emulated kernel and for
 * <sys/_kld_abi.h>.
 */
#include <sys/_kld_abi.h>

/*
 * C_SYSINIT takes a function of sysinit_cfunc_t type; SYSINIT accepts
 * the common void (*)(void *) shape and converts it the way FreeBSD does.
 * The structures stay writable and go in writable set entries, as in
 * FreeBSD 14, because the kernel sorts these sets in place.
 */
#define	C_SYSINIT(uniquifier, sub, ord, fn, ident)			\
	static struct sysinit uniquifier ## _sys_init = {		\
		.subsystem = (sub),					\
		.order = (ord),						\
		.func = (fn),						\
		.udata = (ident)					\
	};								\
	DATA_WSET(sysinit_set, uniquifier ## _sys_init)

#define	SYSINIT(uniquifier, sub, ord, fn, ident)			\
	C_SYSINIT(uniquifier, sub, ord,					\
	    (sysinit_cfunc_t)(sysinit_nfunc_t)(fn), (void *)(ident))

/* The same, run in reverse order at unload or shutdown. */
#define	C_SYSUNINIT(uniquifier, sub, ord, fn, ident)			\
	static struct sysinit uniquifier ## _sys_uninit = {		\
		.subsystem = (sub),					\
		.order = (ord),						\
		.func = (fn),						\
		.udata = (ident)					\
	};								\
	DATA_WSET(sysuninit_set, uniquifier ## _sys_uninit)

#define	SYSUNINIT(uniquifier, sub, ord, fn, ident)			\
	C_SYSUNINIT(uniquifier, sub, ord,				\
	    (sysinit_cfunc_t)(sysinit_nfunc_t)(fn), (void *)(ident))

#endif /* !_SYS_KERNEL_H_ */
