/*
 * The dispatcher of the dual module {{ module }}: the module carries a VIMAGE
 * build (side v) and a non-VIMAGE build (side n) of the same sources, each
 * with its linker sets moved out of the kernel's sight.  The kernel sees
 * only this file's sets.  The SYSINITs of either side of one subsystem and
 * order have one proxy here, of that subsystem and order, that runs them
 * only on its side's kind of kernel, in the order the kernel would run the
 * side's own set: a kldload's, or a boot's when the file was preloaded.
 * Each SYSUNINIT has a proxy of its own.  The active side's sysctls are
 * registered first and unregistered last; the module metadata is declared
 * once, and its event handler is the active side's.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/linker_set.h>
#include <sys/module.h>
#include <sys/sysctl.h>

/* A VIMAGE kernel defines vnet0; the reference is weak, 0 elsewhere. */
struct vnet;
extern struct vnet *vnet0 __weak_symbol;

static int
dual_vimage(void)
{

	return (&vnet0 != NULL);
}

/*
 * What each side references weakly only because the other kind of kernel
 * lacks it.  On its own kind of kernel each must be there, as a strong
 * reference would demand: if one is not, nothing of the module runs and
 * MOD_LOAD fails, so the kernel unloads it.
 */
struct dual_need {
	const char	*name;
	const void	*addr;
};
{%- for n in needs_v %}
extern char {{ n.alias }} __asm__("{{ n.name }}") __weak_symbol;
{%- endfor %}
{%- for n in needs_n %}
extern char {{ n.alias }} __asm__("{{ n.name }}") __weak_symbol;
{%- endfor %}
static const struct dual_need dual_needs_v[] = {
{%- for n in needs_v %}
	{ "{{ n.name }}", &{{ n.alias }} },
{%- endfor %}
	{ NULL, NULL }
};
static const struct dual_need dual_needs_n[] = {
{%- for n in needs_n %}
	{ "{{ n.name }}", &{{ n.alias }} },
{%- endfor %}
	{ NULL, NULL }
};
static int dual_lacking;
/* The file was preloaded: its SYSINITs run during the boot (cold). */
static int dual_booting;

{%- if has_side_proxies %}

static void
dual_call(struct sysinit *si)
{

	/*
	 * Where the kernel lacks what the side needs, only the module's
	 * registration runs, for its MOD_LOAD to fail and the kernel to unload
	 * the file.
	 */
	if (dual_lacking && si->func != module_register_init)
		return;
	(*si->func)(si->udata);
}
{%- endif %}
{%- if !ranks.is_empty() %}

/* The SYSINITs of one side at one subsystem and order. */
struct dual_rank {
	int			vimage;
	struct sysinit	**const	*kld;
	struct sysinit	**const	*boot;
};

static void
dual_run_rank(const void *arg)
{
	const struct dual_rank *rank = arg;
	struct sysinit **const *slot;

	if (rank->vimage != dual_vimage())
		return;
	slot = dual_booting ? rank->boot : rank->kld;
	for (; *slot != NULL; slot++)
		dual_call(**slot);
}
{%- endif %}
{%- if !proxies.is_empty() %}

/* One SYSUNINIT of a side. */
struct dual_entry {
	int		vimage;
	struct sysinit	**slot;
};

static void
dual_run(const void *arg)
{
	const struct dual_entry *entry = arg;

	if (entry->vimage != dual_vimage())
		return;
	dual_call(*entry->slot);
}
{%- endif %}
{%- for s in sysctl_slots %}
extern struct sysctl_oid *{{ s }};
{%- endfor %}

/* Each side's static sysctls, in its set's order. */
static struct sysctl_oid **const dual_sysctls_v[] = {
{%- for s in sysctls_v %}
	&{{ s }},
{%- endfor %}
	NULL
};
static struct sysctl_oid **const dual_sysctls_n[] = {
{%- for s in sysctls_n %}
	&{{ s }},
{%- endfor %}
	NULL
};

static void
dual_sysctls_register(const void *arg __unused)
{
	struct sysctl_oid **const *oid;
	const struct dual_need *need;

	dual_booting = cold;
	need = dual_vimage() ? dual_needs_v : dual_needs_n;
	for (; need->name != NULL; need++) {
		if (need->addr == NULL) {
			printf("{{ module }}: this kernel lacks %s, which the %s "
			    "build needs\n", need->name,
			    dual_vimage() ? "VIMAGE" : "non-VIMAGE");
			dual_lacking = 1;
			return;
		}
	}
	oid = dual_vimage() ? dual_sysctls_v : dual_sysctls_n;
	sysctl_wlock();
	for (; *oid != NULL; oid++)
		sysctl_register_oid(**oid);
	sysctl_wunlock();
}

static void
dual_sysctls_unregister(const void *arg __unused)
{
	struct sysctl_oid **const *oid;

	if (dual_lacking)
		return;
	oid = dual_vimage() ? dual_sysctls_v : dual_sysctls_n;
	sysctl_wlock();
	for (; *oid != NULL; oid++)
		sysctl_unregister_oid(**oid);
	sysctl_wunlock();
}

/*
 * The sets, sorted: the kernel's sort leaves them as they are.  The sysctls
 * are registered before every other SYSINIT of the file, and unregistered
 * after every SYSUNINIT, as the kernel does a module's: at the lowest
 * subsystem that runs (SI_SUB_DUMMY never does, and 13.2 marks a SYSINIT
 * done with SI_SUB_DONE).
 */
static struct sysinit dual_sysctls_sysinit_set = {
	.subsystem = {{ registration_subsystem }},
	.order = {{ registration_order }},
	.func = dual_sysctls_register,
	.udata = NULL,
};
DATA_WSET(sysinit_set, dual_sysctls_sysinit_set);
{%- for r in ranks %}
{% for s in r.boot %}
extern struct sysinit *{{ s }};
{%- endfor %}
static struct sysinit **const {{ r.name }}_kld[] = {
{%- for s in r.kld %}
	&{{ s }},
{%- endfor %}
	NULL
};
static struct sysinit **const {{ r.name }}_boot[] = {
{%- for s in r.boot %}
	&{{ s }},
{%- endfor %}
	NULL
};
static const struct dual_rank {{ r.name }}_rank = {
	{{ r.vimage }}, {{ r.name }}_kld, {{ r.name }}_boot
};
static struct sysinit {{ r.name }} = {
	.subsystem = {{ r.subsystem }},
	.order = {{ r.order }},
	.func = dual_run_rank,
	.udata = &{{ r.name }}_rank,
};
DATA_WSET(sysinit_set, {{ r.name }});
{%- endfor %}
{%- for p in proxies %}

extern struct sysinit *{{ p.slot }};
static const struct dual_entry {{ p.name }}_entry = { {{ p.vimage }}, &{{ p.slot }} };
static struct sysinit {{ p.name }} = {
	.subsystem = {{ p.subsystem }},
	.order = {{ p.order }},
	.func = dual_run,
	.udata = &{{ p.name }}_entry,
};
DATA_WSET(sysuninit_set, {{ p.name }});
{%- endfor %}

static struct sysinit dual_sysctls_sysuninit_set = {
	.subsystem = {{ registration_subsystem }},
	.order = {{ registration_order }},
	.func = dual_sysctls_unregister,
	.udata = NULL,
};
DATA_WSET(sysuninit_set, dual_sysctls_sysuninit_set);
{%- for m in modules %}

{%- if let Some(h) = m.evhand_v %}
extern int {{ h }}(module_t, int, void *);
{%- endif %}
{%- if let Some(h) = m.evhand_n %}
extern int {{ h }}(module_t, int, void *);
{%- endif %}
{%- if let Some(p) = m.priv_v %}
extern char {{ p }}[];
{%- endif %}
{%- if let Some(p) = m.priv_n %}
extern char {{ p }}[];
{%- endif %}

static int
dual_modevent_{{ m.index }}(module_t mod, int type, void *arg __unused)
{

	if (dual_lacking)
		return (type == MOD_LOAD ? ENOEXEC : 0);
	if (dual_vimage())
		return ({{ m.call_v }});
	return ({{ m.call_n }});
}

static moduledata_t dual_module_{{ m.index }} = {
	"{{ m.name }}",
	dual_modevent_{{ m.index }},
	NULL
};
MODULE_METADATA(_dual_module_{{ m.index }}, MDT_MODULE, &dual_module_{{ m.index }}, "{{ m.name }}");
{%- endfor %}
{%- for v in versions %}

static struct mod_version dual_version_{{ v.index }} = { {{ v.version }} };
MODULE_METADATA(_dual_version_{{ v.index }}, MDT_VERSION, &dual_version_{{ v.index }}, "{{ v.name }}");
{%- endfor %}
{%- for d in depends %}

static struct mod_depend dual_depend_{{ d.index }} = { {{ d.min }}, {{ d.pref }}, {{ d.max }} };
MODULE_METADATA(_dual_depend_{{ d.index }}, MDT_DEPEND, &dual_depend_{{ d.index }}, "{{ d.name }}");
{%- endfor %}
