#-
# SPDX-License-Identifier: BSD-2-Clause
#
# A miniature bsd.kmod.mk for testing Makefile.inc without a FreeBSD source
# tree: it compiles ${SRCS:M*.c} for amd64 against this project's stub
# sysroot and links ${KMOD}.ko with `ld -r`, as amd64 modules are ET_REL;
# with MACHINE_ARCH=i386 it compiles for i386 and links the shared object
# ${KMOD}.ko from the relocatable ${KMOD}.kld, as kmod.mk does there.
# Like FreeBSD's, it knows nothing of vnetgen: it only appends to CFLAGS, so
# the -I that Makefile.inc put first stays first.  It has no automatic
# header dependencies either, so the test sees only those Makefile.inc adds.

CC=		clang-19
LD=		ld.lld-19
_KMOD_TOP:=	${.PARSEDIR:tA:H:H}
KMOD_SYSROOT?=	${_KMOD_TOP}/sysroot/include

.if ${MACHINE_ARCH} == "i386"
__KLD_SHARED=	yes
CFLAGS+=	--target=i386-unknown-freebsd14.0
.else
__KLD_SHARED=	no
CFLAGS+=	--target=x86_64-unknown-freebsd14.0 -mcmodel=kernel -mno-red-zone
.endif
CFLAGS+=	-mno-mmx -mno-sse -msoft-float \
		-fno-asynchronous-unwind-tables -nostdinc -ffreestanding \
		-fwrapv -fno-common -fno-builtin -std=gnu99 -O2
# The kernel's warning flags (sys/conf/kern.mk CWARNFLAGS), as errors.
CFLAGS+=	-Wall -Wredundant-decls -Wnested-externs -Wstrict-prototypes \
		-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wundef \
		-Wno-pointer-sign -Wmissing-include-dirs -Wno-unknown-pragmas \
		-Werror
CFLAGS+=	-I${KMOD_SYSROOT} -D_KERNEL -DKLD_MODULE

OBJS+=		${SRCS:M*.c:R:S/$/.o/}
CLEANFILES+=	${KMOD}.ko ${OBJS}

.SUFFIXES:
.SUFFIXES: .c .o

.c.o:
	${CC} ${CFLAGS} -c ${.IMPSRC} -o ${.TARGET}

# Makefile.inc names targets before this file is read; as in FreeBSD, where
# bsd.init.mk says it, the default is still all.
.MAIN: all
all: ${KMOD}.ko

.if ${__KLD_SHARED} == yes
CLEANFILES+=	${KMOD}.kld
${KMOD}.kld: ${OBJS}
	${LD} -r -o ${.TARGET} ${OBJS}
${KMOD}.ko: ${KMOD}.kld
	${LD} -shared -z notext -o ${.TARGET} ${KMOD}.kld
.else
${KMOD}.ko: ${OBJS}
	${LD} -r -o ${.TARGET} ${OBJS}
.endif

clean:
	rm -f ${CLEANFILES}
.if !empty(CLEANDIRS)
	rm -rf ${CLEANDIRS}
.endif
