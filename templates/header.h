{{ doc }}
#ifndef {{ guard }}
#define	{{ guard }}
{% if let Some(cond) = userland_cond %}
#if {{ cond }}
{{ userland }}#endif /* {{ cond }} */
{% else %}
{{ userland }}{% endif %}
#ifdef _KERNEL
{% if selection %}
/*
 * The variant is chosen by the preprocessor:
 *
 *	VIMAGE_RUNTIME	an untied module (KLD_MODULE, no KLD_TIED) that keeps
 *			the VIMAGE layout and asks at run time whether the
 *			kernel has VIMAGE: it loads on both kinds of kernel.
 *			It wins over VIMAGE, which opt_global.h may define.
 *	VIMAGE		VIMAGE compiled in: the kernel or a tied module that
 *			follows the kernel's options (KLD_TIED), or an untied
 *			module built for VIMAGE kernels only.
 *	neither		no VIMAGE: the same, for kernels without it.
 */
#if defined(VIMAGE_RUNTIME) && defined(KLD_TIED)
#error "VIMAGE_RUNTIME is for untied modules: a tied module (KLD_TIED) follows the kernel's own VIMAGE option; drop -DVIMAGE_RUNTIME"
#endif
#if defined(VIMAGE_RUNTIME) && !defined(KLD_MODULE)
#error "VIMAGE_RUNTIME is only for modules built outside the kernel (KLD_MODULE): the kernel follows its own VIMAGE option; drop -DVIMAGE_RUNTIME"
#endif
{% endif %}
{{ common }}
{%- for b in branches %}
{{ b.directive }}
{{ b.comment }}
{{ b.text }}
{%- endfor %}
{%- if !branches.is_empty() %}
#endif /* {{ closing }} */
{% endif %}
#endif /* _KERNEL */

#endif /* !{{ guard }} */
