/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Compiled by the mutation tests' `layout` check: the size of each array
 * below is one more than an offset or a size that the kernel and its modules
 * share (struct vnet, struct vnet_sysinit, struct pcpu), so the object's
 * symbol sizes tell the layout without running anything.  A mutant whose
 * layout differs from the unmutated headers' is killed.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/pcpu.h>

#include <net/vnet.h>

#define	LAYOUT(name, value)	char layout_ ## name[(value) + 1]

LAYOUT(vnet_le, __offsetof(struct vnet, vnet_le));
LAYOUT(vnet_magic_n, __offsetof(struct vnet, vnet_magic_n));
LAYOUT(vnet_data_mem, __offsetof(struct vnet, vnet_data_mem));
LAYOUT(vnet_data_base, __offsetof(struct vnet, vnet_data_base));
LAYOUT(vnet_size, sizeof(struct vnet));
LAYOUT(vnet_sysinit_subsystem, __offsetof(struct vnet_sysinit, subsystem));
LAYOUT(vnet_sysinit_order, __offsetof(struct vnet_sysinit, order));
LAYOUT(vnet_sysinit_func, __offsetof(struct vnet_sysinit, func));
LAYOUT(vnet_sysinit_arg, __offsetof(struct vnet_sysinit, arg));
LAYOUT(vnet_sysinit_size, sizeof(struct vnet_sysinit));
LAYOUT(pcpu_curthread, __offsetof(struct pcpu, pc_curthread));
LAYOUT(pcpu_cpuid, __offsetof(struct pcpu, pc_cpuid));
LAYOUT(pcpu_dynamic, __offsetof(struct pcpu, pc_dynamic));
LAYOUT(pcpu_size, sizeof(struct pcpu));

/*
 * Storage that nothing uses stays in its set (__used): the set, not the
 * code, is what the kernel linker copies into each instance.
 */
DPCPU_DEFINE_STATIC(int, layout_kept_pcpu);
VNET_DEFINE_STATIC(int, layout_kept_vnet);
