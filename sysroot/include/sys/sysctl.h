/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: static sysctl(9) declarations.
 *
 * Each SYSCTL_* macro defines a struct sysctl_oid and enters it in the
 * sysctl_set linker set; the kernel links the OIDs into the tree when
 * the module loads.  A parent is named by its C identifier: the node
 * net.inet is "_net_inet", and SYSCTL_DECL(_net_inet) declares it.
 */

#ifndef _SYS_SYSCTL_H_
#define	_SYS_SYSCTL_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/linker_set.h>

/* The low four bits of oid_kind give the type of the value. */
#define	CTLTYPE		0xf
#define	CTLTYPE_NODE	1	/* a node with children */
#define	CTLTYPE_INT	2	/* int */
#define	CTLTYPE_STRING	3	/* NUL-terminated string */
#define	CTLTYPE_S64	4	/* int64_t */
#define	CTLTYPE_OPAQUE	5	/* raw bytes */
#define	CTLTYPE_STRUCT	CTLTYPE_OPAQUE
#define	CTLTYPE_UINT	6	/* u_int */
#define	CTLTYPE_LONG	7	/* long */
#define	CTLTYPE_ULONG	8	/* u_long */
#define	CTLTYPE_U64	9	/* uint64_t */
#define	CTLTYPE_U8	0xa
#define	CTLTYPE_U16	0xb
#define	CTLTYPE_S8	0xc
#define	CTLTYPE_S16	0xd
#define	CTLTYPE_S32	0xe
#define	CTLTYPE_U32	0xf

/* The high bits are access and behaviour flags. */
#define	CTLFLAG_RD	0x80000000	/* readable */
#define	CTLFLAG_WR	0x40000000	/* writable */
#define	CTLFLAG_RW	(CTLFLAG_RD | CTLFLAG_WR)
#define	CTLFLAG_DORMANT	0x20000000	/* not active yet */
#define	CTLFLAG_ANYBODY	0x10000000	/* any user may write */
#define	CTLFLAG_SECURE	0x08000000	/* write only at securelevel <= 0 */
#define	CTLFLAG_PRISON	0x04000000	/* jailed root may write */
#define	CTLFLAG_DYN	0x02000000	/* created at run time */
#define	CTLFLAG_SKIP	0x01000000	/* hidden from listings */
#define	CTLMASK_SECURE	0x00F00000	/* securelevel field */
#define	CTLFLAG_TUN	0x00080000	/* initial value from a tunable */
#define	CTLFLAG_RDTUN	(CTLFLAG_RD | CTLFLAG_TUN)
#define	CTLFLAG_RWTUN	(CTLFLAG_RW | CTLFLAG_TUN)
#define	CTLFLAG_MPSAFE	0x00040000	/* handler runs without Giant */
#define	CTLFLAG_VNET	0x00020000	/* per-vnet: arg1 is a vnet offset */
#define	CTLFLAG_DYING	0x00010000	/* being removed */
#define	CTLFLAG_CAPRD	0x00008000	/* readable in capability mode */
#define	CTLFLAG_CAPWR	0x00004000	/* writable in capability mode */
#define	CTLFLAG_STATS	0x00002000	/* statistics, not a tunable */
#define	CTLFLAG_NOFETCH	0x00001000	/* do not fetch the tunable */
#define	CTLFLAG_CAPRW	(CTLFLAG_CAPRD | CTLFLAG_CAPWR)
#define	CTLFLAG_NEEDGIANT 0x00000800	/* handler needs Giant */

#define	CTLSHIFT_SECURE	20
#define	CTLFLAG_SECURE1	(CTLFLAG_SECURE | (0 << CTLSHIFT_SECURE))
#define	CTLFLAG_SECURE2	(CTLFLAG_SECURE | (1 << CTLSHIFT_SECURE))
#define	CTLFLAG_SECURE3	(CTLFLAG_SECURE | (2 << CTLSHIFT_SECURE))

/* Let the kernel pick the OID number. */
#define	OID_AUTO	(-1)

struct sysctl_oid;
struct sysctl_req;
struct thread;

#define	SYSCTL_HANDLER_ARGS						\
	struct sysctl_oid *oidp, void *arg1, intmax_t arg2,		\
	struct sysctl_req *req

/* A request in flight: where the old value goes, where the new one is. */
struct sysctl_req {
	struct thread	*td;		/* requester, for access checks */
	int		lock;		/* wiring state */
	void		*oldptr;
	size_t		oldlen;
	size_t		oldidx;
	int		(*oldfunc)(struct sysctl_req *, const void *, size_t);
	const void	*newptr;
	size_t		newlen;
	size_t		newidx;
	int		(*newfunc)(struct sysctl_req *, void *, size_t);
	size_t		validlen;
	int		flags;
};

#if __FreeBSD_version >= 1500000
/*
 * 15.1 keeps a node's children in a red-black tree: the shapes of
 * <sys/tree.h>'s RB_HEAD and RB_ENTRY (left, right, parent).
 */
struct sysctl_oid_list {
	struct sysctl_oid *rbh_root;
};
#define	__SYSCTL_OID_LINK						\
	struct {							\
		struct sysctl_oid *rbe_link[3];				\
	}
#else
/* 13.2 keeps them in a list: SLIST_HEAD and SLIST_ENTRY. */
struct sysctl_oid_list {
	struct sysctl_oid *slh_first;
};
#define	__SYSCTL_OID_LINK						\
	struct {							\
		struct sysctl_oid *sle_next;				\
	}
#endif

struct sysctl_oid {
	struct sysctl_oid_list	oid_children;
	struct sysctl_oid_list	*oid_parent;
	__SYSCTL_OID_LINK	oid_link;
	int			oid_number;
	u_int			oid_kind;
	void			*oid_arg1;
	intmax_t		oid_arg2;
	const char		*oid_name;
	int			(*oid_handler)(SYSCTL_HANDLER_ARGS);
	const char		*oid_fmt;
	int			oid_refcnt;
	u_int			oid_running;
	const char		*oid_descr;
	const char		*oid_label;
};

#define	SYSCTL_IN(r, p, l)	((r)->newfunc)((r), (p), (l))
#define	SYSCTL_OUT(r, p, l)	((r)->oldfunc)((r), (p), (l))
#define	SYSCTL_OUT_STR(r, p)	((r)->oldfunc)((r), (p), strlen((p)) + 1)

int	sysctl_handle_bool(SYSCTL_HANDLER_ARGS);
int	sysctl_handle_int(SYSCTL_HANDLER_ARGS);
int	sysctl_handle_long(SYSCTL_HANDLER_ARGS);
int	sysctl_handle_64(SYSCTL_HANDLER_ARGS);
int	sysctl_handle_string(SYSCTL_HANDLER_ARGS);
int	sysctl_handle_opaque(SYSCTL_HANDLER_ARGS);

/* Registration of a static OID by hand, under the sysctl lock. */
void	sysctl_register_oid(struct sysctl_oid *oidp);
void	sysctl_unregister_oid(struct sysctl_oid *oidp);
void	sysctl_wlock(void);
void	sysctl_wunlock(void);

/* Typed NULLs for sysctls that export a constant instead of a variable. */
#define	SYSCTL_NULL_INT_PTR	((int *)NULL)
#define	SYSCTL_NULL_UINT_PTR	((u_int *)NULL)
#define	SYSCTL_NULL_LONG_PTR	((long *)NULL)
#define	SYSCTL_NULL_ULONG_PTR	((u_long *)NULL)
#define	SYSCTL_NULL_S64_PTR	((int64_t *)NULL)
#define	SYSCTL_NULL_U64_PTR	((uint64_t *)NULL)

#define	SYSCTL_CT_ASSERT_MASK	CTLTYPE

/* Handlers and nodes must say whether they need Giant. */
#define	SYSCTL_ENFORCE_FLAGS(x)						\
	_Static_assert((((x) & CTLFLAG_MPSAFE) != 0) ^			\
	    (((x) & CTLFLAG_NEEDGIANT) != 0),				\
	    "Has to be either CTLFLAG_MPSAFE or CTLFLAG_NEEDGIANT")

/* A type given in access must agree with the type the macro implies. */
#define	__SYSCTL_TYPE_OK(access, type)					\
	_Static_assert(((access) & CTLTYPE) == 0 ||			\
	    ((access) & SYSCTL_CT_ASSERT_MASK) == (type),		\
	    "sysctl type does not match")

#define	SYSCTL_DECL(name)	extern struct sysctl_oid sysctl__##name
#define	SYSCTL_CHILDREN(oid_ptr)	(&(oid_ptr)->oid_children)
#define	SYSCTL_PARENT(oid_ptr)	NULL
#define	SYSCTL_STATIC_CHILDREN(oid_name)				\
	SYSCTL_CHILDREN(&sysctl__##oid_name)

#define	SYSCTL_OID_RAW(id, parent_list, nbr, name, kind, a1, a2,	\
    handler, fmt, descr, label)						\
	struct sysctl_oid id = {					\
		.oid_children = { NULL },				\
		.oid_parent = (parent_list),				\
		.oid_number = (nbr),					\
		.oid_kind = (kind),					\
		.oid_arg1 = (a1),					\
		.oid_arg2 = (a2),					\
		.oid_name = (name),					\
		.oid_handler = (handler),				\
		.oid_fmt = (fmt),					\
		.oid_descr = (descr),					\
		.oid_label = (label),					\
	};								\
	DATA_SET(sysctl_set, id);					\
	SYSCTL_ENFORCE_FLAGS(kind)

/* File-local OID. */
#define	SYSCTL_OID_WITH_LABEL(parent, nbr, name, kind, a1, a2,		\
    handler, fmt, descr, label)						\
	static SYSCTL_OID_RAW(sysctl__##parent##_##name,		\
	    SYSCTL_CHILDREN(&sysctl__##parent), nbr, #name, kind, a1, a2,\
	    handler, fmt, descr, label)
#define	SYSCTL_OID(parent, nbr, name, kind, a1, a2, handler, fmt, descr)\
	SYSCTL_OID_WITH_LABEL(parent, nbr, name, kind, a1, a2, handler,	\
	    fmt, descr, NULL)

/* Global OID, so other files can SYSCTL_DECL it (used for nodes). */
#define	SYSCTL_OID_GLOBAL(parent, nbr, name, kind, a1, a2, handler,	\
    fmt, descr, label)							\
	SYSCTL_OID_RAW(sysctl__##parent##_##name,			\
	    SYSCTL_CHILDREN(&sysctl__##parent), nbr, #name, kind, a1, a2,\
	    handler, fmt, descr, label)

#define	SYSCTL_NODE_WITH_LABEL(parent, nbr, name, access, handler,	\
    descr, label)							\
	SYSCTL_OID_GLOBAL(parent, nbr, name, CTLTYPE_NODE | (access),	\
	    NULL, 0, handler, "N", descr, label);			\
	__SYSCTL_TYPE_OK(access, CTLTYPE_NODE)
#define	SYSCTL_NODE(parent, nbr, name, access, handler, descr)		\
	SYSCTL_NODE_WITH_LABEL(parent, nbr, name, access, handler,	\
	    descr, NULL)

#define	SYSCTL_INT_WITH_LABEL(parent, nbr, name, access, ptr, val,	\
    descr, label)							\
	SYSCTL_OID_WITH_LABEL(parent, nbr, name,			\
	    CTLTYPE_INT | CTLFLAG_MPSAFE | (access),			\
	    ptr, val, sysctl_handle_int, "I", descr, label);		\
	__SYSCTL_TYPE_OK(access, CTLTYPE_INT);				\
	_Static_assert(sizeof(int) == sizeof(*(ptr)), "not an int")
#define	SYSCTL_INT(parent, nbr, name, access, ptr, val, descr)		\
	SYSCTL_INT_WITH_LABEL(parent, nbr, name, access, ptr, val,	\
	    descr, NULL)

#define	SYSCTL_UINT(parent, nbr, name, access, ptr, val, descr)		\
	SYSCTL_OID(parent, nbr, name,					\
	    CTLTYPE_UINT | CTLFLAG_MPSAFE | (access),			\
	    ptr, val, sysctl_handle_int, "IU", descr);			\
	__SYSCTL_TYPE_OK(access, CTLTYPE_UINT);				\
	_Static_assert(sizeof(u_int) == sizeof(*(ptr)), "not a u_int")

#define	SYSCTL_LONG(parent, nbr, name, access, ptr, val, descr)		\
	SYSCTL_OID(parent, nbr, name,					\
	    CTLTYPE_LONG | CTLFLAG_MPSAFE | (access),			\
	    ptr, val, sysctl_handle_long, "L", descr);			\
	__SYSCTL_TYPE_OK(access, CTLTYPE_LONG);				\
	_Static_assert(sizeof(long) == sizeof(*(ptr)), "not a long")

#define	SYSCTL_ULONG(parent, nbr, name, access, ptr, val, descr)	\
	SYSCTL_OID(parent, nbr, name,					\
	    CTLTYPE_ULONG | CTLFLAG_MPSAFE | (access),			\
	    ptr, val, sysctl_handle_long, "LU", descr);			\
	__SYSCTL_TYPE_OK(access, CTLTYPE_ULONG);			\
	_Static_assert(sizeof(u_long) == sizeof(*(ptr)), "not a u_long")

#define	SYSCTL_S64(parent, nbr, name, access, ptr, val, descr)		\
	SYSCTL_OID(parent, nbr, name,					\
	    CTLTYPE_S64 | CTLFLAG_MPSAFE | (access),			\
	    ptr, val, sysctl_handle_64, "Q", descr);			\
	__SYSCTL_TYPE_OK(access, CTLTYPE_S64);				\
	_Static_assert(sizeof(int64_t) == sizeof(*(ptr)), "not 64 bits")

#define	SYSCTL_U64(parent, nbr, name, access, ptr, val, descr)		\
	SYSCTL_OID(parent, nbr, name,					\
	    CTLTYPE_U64 | CTLFLAG_MPSAFE | (access),			\
	    ptr, val, sysctl_handle_64, "QU", descr);			\
	__SYSCTL_TYPE_OK(access, CTLTYPE_U64);				\
	_Static_assert(sizeof(uint64_t) == sizeof(*(ptr)), "not 64 bits")

#define	SYSCTL_STRING(parent, nbr, name, access, arg, len, descr)	\
	SYSCTL_OID(parent, nbr, name,					\
	    CTLTYPE_STRING | CTLFLAG_MPSAFE | (access),			\
	    arg, len, sysctl_handle_string, "A", descr);		\
	__SYSCTL_TYPE_OK(access, CTLTYPE_STRING)

#define	SYSCTL_OPAQUE(parent, nbr, name, access, ptr, len, fmt, descr)	\
	SYSCTL_OID(parent, nbr, name,					\
	    CTLTYPE_OPAQUE | CTLFLAG_MPSAFE | (access),			\
	    ptr, len, sysctl_handle_opaque, fmt, descr);		\
	__SYSCTL_TYPE_OK(access, CTLTYPE_OPAQUE)

#define	SYSCTL_STRUCT(parent, nbr, name, access, ptr, type, descr)	\
	SYSCTL_OID(parent, nbr, name,					\
	    CTLTYPE_OPAQUE | CTLFLAG_MPSAFE | (access),			\
	    ptr, sizeof(struct type), sysctl_handle_opaque,		\
	    "S," #type, descr);						\
	__SYSCTL_TYPE_OK(access, CTLTYPE_OPAQUE)

/* A sysctl served by its own handler; access must carry a type. */
#define	SYSCTL_PROC(parent, nbr, name, access, ptr, arg, handler, fmt,	\
    descr)								\
	SYSCTL_OID(parent, nbr, name, (access), ptr, arg, handler, fmt,	\
	    descr);							\
	_Static_assert(((access) & CTLTYPE) != 0, "SYSCTL_PROC needs a type")

/* Top-level nodes that modules hang their OIDs from. */
SYSCTL_DECL(_kern);
SYSCTL_DECL(_vm);
SYSCTL_DECL(_vfs);
SYSCTL_DECL(_net);
SYSCTL_DECL(_debug);
SYSCTL_DECL(_hw);
SYSCTL_DECL(_machdep);
SYSCTL_DECL(_security);

#endif /* !_SYS_SYSCTL_H_ */
