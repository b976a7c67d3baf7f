/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: module declaration and metadata.
 */

#ifndef _SYS_MODULE_H_
#define	_SYS_MODULE_H_

#include <sys/param.h>
#include <sys/kernel.h>
#include <sys/linker_set.h>

/* Kinds of module metadata records. */
#define	MDT_DEPEND		1	/* a dependency on another module */
#define	MDT_MODULE		2	/* the module itself */
#define	MDT_VERSION		3	/* the module's version */
#define	MDT_PNP_INFO		4	/* plug-and-play match data */

#define	MDT_STRUCT_VERSION	1	/* version of struct mod_metadata */
#define	MDT_SETNAME		"modmetadata_set"

typedef enum modeventtype {
	MOD_LOAD,
	MOD_UNLOAD,
	MOD_SHUTDOWN,
	MOD_QUIESCE
} modeventtype_t;

typedef struct module *module_t;
/* The event is passed as an int so handlers may take modeventtype_t too. */
typedef int (*modeventhand_t)(module_t, int, void *);

typedef struct moduledata {
	const char	*name;		/* module name */
	modeventhand_t	evhand;		/* event handler */
	void		*priv;		/* handler's extra argument */
} moduledata_t;

struct mod_depend {
	int	md_ver_minimum;
	int	md_ver_preferred;
	int	md_ver_maximum;
};

struct mod_version {
	int	mv_version;
};

/* One record in the modmetadata_set linker set. */
struct mod_metadata {
	int		md_version;	/* MDT_STRUCT_VERSION */
	int		md_type;	/* MDT_* */
	const void	*md_data;	/* type-specific payload */
	const char	*md_cval;	/* usually the module name */
};

#define	MODULE_METADATA_CONCAT(uniquifier)	_mod_metadata##uniquifier
#define	MODULE_METADATA(uniquifier, type, data, cval)			\
	static struct mod_metadata MODULE_METADATA_CONCAT(uniquifier) = {\
		.md_version = MDT_STRUCT_VERSION,			\
		.md_type = (type),					\
		.md_data = (data),					\
		.md_cval = (cval)					\
	};								\
	DATA_SET(modmetadata_set, MODULE_METADATA_CONCAT(uniquifier))

#define	MODULE_DEPEND(module, mdepend, vmin, vpref, vmax)		\
	static struct mod_depend _##module##_depend_on_##mdepend = {	\
		.md_ver_minimum = (vmin),				\
		.md_ver_preferred = (vpref),				\
		.md_ver_maximum = (vmax)				\
	};								\
	MODULE_METADATA(_md_##module##_on_##mdepend, MDT_DEPEND,	\
	    &_##module##_depend_on_##mdepend, #mdepend)

#define	MODULE_VERSION_CONCAT(module, version)	_##module##_version
#define	MODULE_VERSION(module, version)					\
	static struct mod_version MODULE_VERSION_CONCAT(module, version) = {\
		.mv_version = (version)					\
	};								\
	MODULE_METADATA(MODULE_VERSION_CONCAT(module, version),		\
	    MDT_VERSION, &MODULE_VERSION_CONCAT(module, version),	\
	    __XSTRING(module))

/* Newest kernel an ordinary module agrees to load into: this branch. */
#define	MODULE_KERNEL_MAXVER	(roundup(__FreeBSD_version, 100000) - 1)

/*
 * A module records its dependency on the kernel, a metadata entry naming
 * itself, and a SYSINIT that registers it when its subsystem starts.
 * A "tied" module only loads into the exact kernel version it was built
 * for.
 */
#define	DECLARE_MODULE_WITH_MAXVER(name, data, sub, order, maxver)	\
	MODULE_DEPEND(name, kernel, __FreeBSD_version,			\
	    __FreeBSD_version, maxver);					\
	MODULE_METADATA(_md_##name, MDT_MODULE, &data, __XSTRING(name));\
	SYSINIT(name##module, sub, order, module_register_init, &data);	\
	struct __hack

#ifdef KLD_TIED
#define	DECLARE_MODULE(name, data, sub, order)				\
	DECLARE_MODULE_WITH_MAXVER(name, data, sub, order, __FreeBSD_version)
#else
#define	DECLARE_MODULE(name, data, sub, order)				\
	DECLARE_MODULE_WITH_MAXVER(name, data, sub, order,		\
	    MODULE_KERNEL_MAXVER)
#endif
#define	DECLARE_MODULE_TIED(name, data, sub, order)			\
	DECLARE_MODULE_WITH_MAXVER(name, data, sub, order, __FreeBSD_version)

void	module_register_init(const void *);

#endif /* !_SYS_MODULE_H_ */
