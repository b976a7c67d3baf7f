/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * vnetgen's /sbin/init for real FreeBSD kernels booted in QEMU (amd64 and
 * i386).  No libc: raw system calls only.  It reads /plan.txt, runs it,
 * prints one line per step on /dev/console for the host to parse, and
 * powers the machine off.  Written by vnetgen; compiled at run time by
 * `vnetgen vm` with clang for the kernel's architecture.
 *
 * The plan, one directive a line, tokens separated by blanks:
 *
 *   begin ID                 a scenario starts
 *   step ID OP ARGS...       one step (ID: the scenario line it comes from)
 *   cleanup ID               the scenario's clean-up starts
 *   end ID                   the scenario ends
 *
 * Options anywhere among a step's arguments:
 *   jail=NAME   run the step in that jail (fork, jail_attach)
 *   cpu=N       run the step pinned to CPU N (cpuset_setaffinity)
 *   want=ok|fail|any|errno:N|INT   what the step must give; when it does not, the
 *               rest of the scenario is skipped up to its `cleanup`; with
 *               `any`, a failure skips only the other lines of the step
 *
 * Operations:
 *   kldload PATH             kldload(2)
 *   kldunload NAME           kldfind(2), kldunload(2)
 *   kldfind NAME             kldfind(2): a file the loader loaded
 *   sysctl NAME [new=INT]    __sysctlbyname(2), the type from sysctl 0.4
 *   call NAME [INT...]       __sysctlbyname(2) of a long-returning handler,
 *                            the arguments passed as the new value (longs)
 *   vnet-create NAME         jail_set(2) name, vnet=new, persist
 *   vnet-destroy NAME        jail_get(2) by name, jail_remove(2)
 *   ifconfig IF ACTION...    ioctl(2) on a socket, as ifconfig(8) does:
 *                            exists (SIOCGIFFLAGS), create (SIOCIFCREATE2),
 *                            destroy (SIOCIFDESTROY), vnet JAIL and
 *                            -vnet JAIL (SIOCSIFVNET, SIOCSIFRVNET),
 *                            addm IF (SIOCSDRVSPEC BRDGADD), vlan TAG
 *                            vlandev IF (SIOCSETVLAN), getvlan
 *                            (SIOCGETVLAN: the tag)
 *
 * Output, each a single line:
 *
 *   @@VNETGEN init arch=A osreldate=N vimage=0|1 ncpu=N
 *   @@VNETGEN begin=ID | cleanup=ID | end=ID
 *   @@VNETGEN step=ID op=OP ... rc=R errno=E [value=V] ok=0|1
 *   @@VNETGEN skip=ID           (the rest of scenario ID is skipped)
 *   @@VNETGEN done steps=N
 *
 * Values are single tokens: bytes outside 0x21..0x7e and '\' print as \xHH.
 * Each line ends with " #N", N the number of bytes after "@@VNETGEN ".
 * After each line the console is drained (TIOCDRAIN), so that the kernel's
 * own messages come out just before the line of the step that caused them.
 * Interfaces' link state changes, which a taskqueue prints at any time, are
 * switched off (net.link.log_link_state_change=0).
 * System call numbers: sys/kern/syscalls.master (13.2 and 15.1 agree).
 */

typedef unsigned long size_t;
typedef unsigned int u_int;

#define	SYS_exit		1
#define	SYS_fork		2
#define	SYS_read		3
#define	SYS_write		4
#define	SYS_open		5
#define	SYS_close		6
#define	SYS_wait4		7
#define	SYS_ioctl		54
#define	SYS_socket		97
#define	SYS_reboot		55
#define	SYS___sysctl		202
#define	SYS_nanosleep		240
#define	SYS_kldload		304
#define	SYS_kldunload		305
#define	SYS_kldfind		306
#define	SYS_jail_attach		436
#define	SYS_cpuset_setaffinity	488
#define	SYS_jail_get		506
#define	SYS_jail_set		507
#define	SYS_jail_remove		508
#define	SYS___sysctlbyname	570

#define	O_RDONLY	0x0000
#define	O_RDWR		0x0002
#define	O_NOCTTY	0x8000
#define	TIOCDRAIN	0x2000745eUL
#define	RB_NOSYNC	0x004
#define	RB_POWEROFF	0x4000
#define	JAIL_CREATE	0x01
#define	JAIL_SYS_NEW	1
#define	CPU_LEVEL_WHICH	3
#define	CPU_WHICH_PID	2
#define	CTLTYPE		0xf
#define	EINVAL		22
#define	EINTR		4
#define	AF_LOCAL	1
#define	SOCK_DGRAM	2

/* sys/ioccom.h */
#define	IOC_OUT		0x40000000UL
#define	IOC_IN		0x80000000UL
#define	IOC_INOUT	(IOC_IN | IOC_OUT)
#define	VG_IOC(inout, num, len)						\
	((inout) | (((unsigned long)(len) & 0x1fff) << 16) |		\
	    ((unsigned long)'i' << 8) | (num))

/*
 * net/if.h, net/if_bridgevar.h, net/if_vlan_var.h (13.2 and 15.1 agree):
 * struct ifreq is 32 bytes on amd64 and i386, its union after the name;
 * struct ifbreq 80 bytes, the member's name first; struct vlanreq the
 * parent's name, the tag, the protocol (0: 802.1Q).
 */
#define	IFNAMSIZ	16
#define	BRDGADD		0
struct vg_ifreq {
	char	name[IFNAMSIZ];
	union {
		int	jid;
		void	*data;
		char	pad[16];
	} u;
};
struct vg_ifdrv {
	char		name[IFNAMSIZ];
	unsigned long	cmd;
	size_t		len;
	void		*data;
};
struct vg_ifbreq {
	char		name[IFNAMSIZ];
	unsigned char	rest[64];
};
struct vg_vlanreq {
	char		parent[IFNAMSIZ];
	unsigned short	tag;
	unsigned short	proto;
};
#define	SIOCGIFFLAGS	VG_IOC(IOC_INOUT, 17, sizeof(struct vg_ifreq))
#define	SIOCSIFGENERIC	VG_IOC(IOC_IN, 57, sizeof(struct vg_ifreq))
#define	SIOCGIFGENERIC	VG_IOC(IOC_INOUT, 58, sizeof(struct vg_ifreq))
#define	SIOCSIFVNET	VG_IOC(IOC_INOUT, 90, sizeof(struct vg_ifreq))
#define	SIOCSIFRVNET	VG_IOC(IOC_INOUT, 91, sizeof(struct vg_ifreq))
#define	SIOCIFDESTROY	VG_IOC(IOC_IN, 121, sizeof(struct vg_ifreq))
#define	SIOCSDRVSPEC	VG_IOC(IOC_IN, 123, sizeof(struct vg_ifdrv))
#define	SIOCIFCREATE2	VG_IOC(IOC_INOUT, 124, sizeof(struct vg_ifreq))

#define	PLAN_PATH	"/plan.txt"
#define	MAXARGS		32

/* The FreeBSD ABI note: the kernel's image activator brands us by it. */
__asm__(
    ".section .note.tag,\"a\",@note\n"
    ".p2align 2\n"
    ".long 8\n"
    ".long 4\n"
    ".long 1\n"
    ".asciz \"FreeBSD\"\n"
    ".long 1302001\n"
    ".previous\n");

/* Raw system calls: the result, or -errno. */
#if defined(__x86_64__)
#define	ARCH	"amd64"
static long
sys6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	_Bool err;

	/* Number in rax; rdi rsi rdx r10 r8 r9; carry set on error. */
	__asm__ volatile("syscall"
	    : "+a"(n), "=@ccc"(err), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10),
	      "+r"(r8), "+r"(r9)
	    :
	    : "rcx", "r11", "memory");
	return (err ? -n : n);
}
__asm__(
    ".text\n"
    ".globl _start\n"
    "_start:\n"
    "  xorl %ebp, %ebp\n"
    "  andq $-16, %rsp\n"
    "  call vg_main\n"
    "  hlt\n");
#elif defined(__i386__)
#define	ARCH	"i386"
/*
 * cdecl leaves [ret][n][a1]...: pop ret and n, push ret back, and the
 * stack is FreeBSD's int $0x80 layout (a dummy word, then the arguments).
 */
long vg_sys(long n, long a1, long a2, long a3, long a4, long a5, long a6);
__asm__(
    ".text\n"
    ".globl vg_sys\n"
    "vg_sys:\n"
    "  popl %ecx\n"
    "  popl %eax\n"
    "  pushl %ecx\n"
    "  int $0x80\n"
    "  popl %ecx\n"
    "  pushl %ecx\n"
    "  pushl %ecx\n"
    "  jnc 1f\n"
    "  negl %eax\n"
    "1: ret\n"
    ".globl _start\n"
    "_start:\n"
    "  xorl %ebp, %ebp\n"
    "  andl $-16, %esp\n"
    "  call vg_main\n"
    "  hlt\n");
#define	sys6(n, a, b, c, d, e, f)	vg_sys(n, a, b, c, d, e, f)
#else
#error "amd64 or i386 only"
#endif

#define	S1(n, a)		sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define	S2(n, a, b)		sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define	S3(n, a, b, c)		sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define	S4(n, a, b, c, d)	sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define	S6(n, a, b, c, d, e, f)						\
	sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

struct iovec {
	void	*iov_base;
	size_t	iov_len;
};

struct timespec {
	long	tv_sec;
	long	tv_nsec;
};

/* clang may call these even with -ffreestanding. */
void *
memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return (d);
}

void *
memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return (d);
}

static size_t
slen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return (n);
}

static int
seq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (*a == *b);
}

static const char *
prefixed(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return (0);
	return (s);
}

/* Output: one line buffer, written and drained at each end of line. */
static int cons = -1;
static char obuf[4096];
static size_t olen;

static void
oflush(void)
{
	if (olen && cons >= 0) {
		S3(SYS_write, cons, obuf, olen);
		S3(SYS_ioctl, cons, TIOCDRAIN, 0);
	}
	olen = 0;
}

static void
oc(char c)
{
	if (olen < sizeof(obuf) - 2)
		obuf[olen++] = c;
}

static void
os(const char *s)
{
	while (*s)
		oc(*s++);
}

static void
oesc(const unsigned char *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	if (n == 0) {
		os("\\x00");
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c > 0x20 && c < 0x7f && c != '\\')
			oc((char)c);
		else {
			oc('\\'), oc('x'), oc(hx[c >> 4]), oc(hx[c & 15]);
		}
	}
}

/* Divides by 10 without the compiler's 64-bit helpers (i386). */
static unsigned long long
div10(unsigned long long v, unsigned *rem)
{
	unsigned long long q = 0, r = 0;
	int i;

	for (i = 63; i >= 0; i--) {
		r = (r << 1) | ((v >> i) & 1);
		if (r >= 10)
			r -= 10, q |= 1ULL << i;
	}
	*rem = (unsigned)r;
	return (q);
}

static void
ou(unsigned long long v)
{
	char b[24];
	int i = 0;
	unsigned d;

	do {
		v = div10(v, &d);
		b[i++] = (char)('0' + d);
	} while (v && i < 24);
	while (i)
		oc(b[--i]);
}

static void
oi(long long v)
{
	if (v < 0) {
		oc('-');
		ou((unsigned long long)-v);
	} else
		ou((unsigned long long)v);
}

/*
 * Ends a line with " #N", N the length of what follows "@@VNETGEN ": the
 * kernel's own printf()s reach the console around the tty's output, and
 * can land inside a line; the host tells and mends such a line by it.
 */
static void
oend(void)
{
	size_t body = olen > 10 ? olen - 10 : 0;

	oc(' '), oc('#');
	ou(body);
	oc('\n');
	oflush();
}

static void
okv(const char *k, long long v)
{
	oc(' '), os(k), oc('='), oi(v);
}

static void
oks(const char *k, const char *v)
{
	oc(' '), os(k), oc('='), oesc((const unsigned char *)v, slen(v));
}

static int
parse_int(const char *s, long long *v)
{
	int neg = 0, d;
	unsigned long long x = 0;

	if (*s == '-')
		neg = 1, s++;
	if (!*s)
		return (0);
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (!*s)
			return (0);
		for (; *s; s++) {
			d = (*s >= '0' && *s <= '9') ? *s - '0' :
			    (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10 :
			    (*s >= 'A' && *s <= 'F') ? *s - 'A' + 10 : -1;
			if (d < 0)
				return (0);
			x = x * 16 + (unsigned)d;
		}
	} else {
		for (; *s; s++) {
			if (*s < '0' || *s > '9')
				return (0);
			x = x * 10 + (unsigned)(*s - '0');
		}
	}
	*v = neg ? -(long long)x : (long long)x;
	return (1);
}

/* One step's parsed line. */
struct step {
	const char	*id;
	const char	*op;
	const char	*jail;
	const char	*cpu;
	const char	*want;
	const char	*newval;
	int		argc;
	char		*argv[MAXARGS];
};

/* What a step gave: its system call's result and, for reads, a value. */
struct result {
	long		rc;		/* >= 0, or -errno */
	int		has_value;
	long long	value;
};

static void
ohead(const struct step *st)
{
	os("@@VNETGEN step="), os(st->id), os(" op="), os(st->op);
	if (st->jail)
		oks("jail", st->jail);
	if (st->cpu)
		oks("cpu", st->cpu);
}

static void
orc(long r)
{
	if (r < 0)
		okv("rc", -1), okv("errno", -r);
	else
		okv("rc", r), okv("errno", 0);
}

/* Does the result satisfy the step's want=?  (any: always.) */
static int
satisfied(const struct step *st, const struct result *res)
{
	long long v;

	if (!st->want || seq(st->want, "ok"))
		return (res->rc >= 0);
	if (seq(st->want, "fail"))
		return (res->rc < 0);
	if (seq(st->want, "any"))
		return (1);
	if (prefixed(st->want, "errno:"))
		return (res->rc < 0 && parse_int(prefixed(st->want, "errno:"),
		    &v) && -res->rc == v);
	if (!parse_int(st->want, &v))
		return (0);
	return (res->rc >= 0 && res->has_value && res->value == v);
}

static void
oresult(const struct step *st, const struct result *res)
{
	oks("want", st->want ? st->want : "ok");
	okv("ok", satisfied(st, res));
	oend();
}

/* sysctl helpers. */
static long
sysctl_kind(const char *name, unsigned *kindp)
{
	int q[2 + 24];
	size_t sz = 24 * sizeof(int);
	union {
		u_int	kind;
		char	b[64];
	} fmt;
	long r;
	u_int n;

	q[0] = 0, q[1] = 3;
	r = S6(SYS___sysctl, q, 2, &q[2], &sz, name, slen(name));
	if (r < 0)
		return (r);
	n = (u_int)(sz / sizeof(int));
	q[1] = 4;
	sz = sizeof(fmt);
	r = S6(SYS___sysctl, q, n + 2, &fmt, &sz, 0, 0);
	if (r < 0)
		return (r);
	*kindp = fmt.kind;
	return (0);
}

static const char *
kind_name(unsigned k)
{
	static const char *const names[16] = { "none", "node", "int",
	    "string", "s64", "opaque", "uint", "long", "ulong", "u64", "u8",
	    "u16", "s8", "s16", "s32", "u32" };

	return (names[k & CTLTYPE]);
}

static int
int_value(unsigned k, const unsigned char *b, size_t len, long long *v)
{
	switch (k & CTLTYPE) {
	case 2: case 14:
		if (len < 4) return (0);
		*v = *(const int *)b; return (1);
	case 6: case 15:
		if (len < 4) return (0);
		*v = *(const unsigned *)b; return (1);
	case 7:
		if (len < sizeof(long)) return (0);
		*v = *(const long *)b; return (1);
	case 8:
		if (len < sizeof(long)) return (0);
		*v = (long long)*(const unsigned long *)b; return (1);
	case 4: case 9:
		if (len < 8) return (0);
		*v = *(const long long *)b; return (1);
	case 10:
		if (len < 1) return (0);
		*v = b[0]; return (1);
	case 12:
		if (len < 1) return (0);
		*v = (signed char)b[0]; return (1);
	case 11:
		if (len < 2) return (0);
		*v = *(const unsigned short *)b; return (1);
	case 13:
		if (len < 2) return (0);
		*v = *(const short *)b; return (1);
	}
	return (0);
}

static unsigned char vbuf[8192];

static void
print_value(unsigned kind, size_t len, struct result *res)
{
	static const char hx[] = "0123456789abcdef";
	long long v;
	size_t i, n;

	oks("type", kind_name(kind));
	if (int_value(kind, vbuf, len, &v)) {
		okv("value", v);
		res->has_value = 1, res->value = v;
	} else if ((kind & CTLTYPE) == 3) {
		n = len;
		while (n && vbuf[n - 1] == 0)
			n--;
		os(" value="), oesc(vbuf, n);
	} else {
		okv("len", (long long)len);
		os(" value=");
		n = len > 256 ? 256 : len;
		if (!n)
			oc('-');
		for (i = 0; i < n; i++)
			oc(hx[vbuf[i] >> 4]), oc(hx[vbuf[i] & 15]);
	}
}

static void
do_sysctl(const struct step *st, struct result *res)
{
	const char *name = st->argc > 0 ? st->argv[0] : "";
	unsigned kind = 0;
	size_t len = sizeof(vbuf) - 1, nlen = 0;
	long long v = 0;
	union {
		int		i;
		long		l;
		long long	q;
		unsigned char	c;
		short		s;
	} nv;
	void *newp = 0;
	long r;

	r = sysctl_kind(name, &kind);
	if (r >= 0 && st->newval) {
		if (!parse_int(st->newval, &v))
			r = -EINVAL;
		switch (kind & CTLTYPE) {
		case 2: case 6: case 14: case 15:
			nv.i = (int)v, nlen = 4; break;
		case 7: case 8:
			nv.l = (long)v, nlen = sizeof(long); break;
		case 4: case 9:
			nv.q = v, nlen = 8; break;
		case 10: case 12:
			nv.c = (unsigned char)v, nlen = 1; break;
		case 11: case 13:
			nv.s = (short)v, nlen = 2; break;
		default:
			r = -EINVAL;
		}
		newp = &nv;
	}
	if (r >= 0)
		r = S6(SYS___sysctlbyname, name, slen(name), vbuf, &len, newp,
		    nlen);
	/* After a write, the value read back. */
	if (r >= 0 && newp) {
		len = sizeof(vbuf) - 1;
		r = S6(SYS___sysctlbyname, name, slen(name), vbuf, &len, 0, 0);
	}
	res->rc = r;
	ohead(st), oks("arg", name);
	if (st->newval)
		oks("new", st->newval);
	orc(r);
	if (r >= 0)
		print_value(kind, len, res);
	oresult(st, res);
}

static void
do_call(const struct step *st, struct result *res)
{
	const char *name = st->argc > 0 ? st->argv[0] : "";
	long args[6];
	long out = 0;
	size_t len = sizeof(out);
	int i, n = 0;
	long long v;
	long r = 0;

	for (i = 1; i < st->argc && n < 6; i++) {
		if (!parse_int(st->argv[i], &v))
			r = -EINVAL;
		args[n++] = (long)v;
	}
	if (r >= 0)
		r = S6(SYS___sysctlbyname, name, slen(name), &out, &len,
		    n ? (void *)args : (void *)0, n * sizeof(long));
	res->rc = r;
	ohead(st), oks("arg", name);
	for (i = 1; i < st->argc; i++)
		oks("a", st->argv[i]);
	orc(r);
	if (r >= 0 && len == sizeof(long)) {
		res->has_value = 1, res->value = out;
		okv("value", out);
	}
	oresult(st, res);
}

/* Jails. */
static char errmsg[256];

static void
iov_set(struct iovec *v, const char *k, void *val, size_t len)
{
	v[0].iov_base = (void *)k, v[0].iov_len = slen(k) + 1;
	v[1].iov_base = val, v[1].iov_len = len;
}

static long
jail_lookup(const char *name)
{
	struct iovec iov[4];

	errmsg[0] = 0;
	iov_set(&iov[0], "name", (void *)name, slen(name) + 1);
	iov_set(&iov[2], "errmsg", errmsg, sizeof(errmsg));
	return (S3(SYS_jail_get, iov, 4, 0));
}

static void
do_vnet_create(const struct step *st, struct result *res)
{
	const char *name = st->argc > 0 ? st->argv[0] : "";
	struct iovec iov[8];
	int vnet = JAIL_SYS_NEW;

	errmsg[0] = 0;
	iov_set(&iov[0], "name", (void *)name, slen(name) + 1);
	iov_set(&iov[2], "vnet", &vnet, sizeof(vnet));
	iov_set(&iov[4], "persist", 0, 0);
	iov_set(&iov[6], "errmsg", errmsg, sizeof(errmsg));
	res->rc = S3(SYS_jail_set, iov, 8, JAIL_CREATE);
	ohead(st), oks("arg", name), orc(res->rc);
	if (errmsg[0])
		oks("errmsg", errmsg);
	oresult(st, res);
}

static void
do_vnet_destroy(const struct step *st, struct result *res)
{
	const char *name = st->argc > 0 ? st->argv[0] : "";
	long jid = jail_lookup(name);

	ohead(st), oks("arg", name);
	if (jid < 0) {
		res->rc = jid;
		os(" phase=jail_get"), orc(jid);
		if (errmsg[0])
			oks("errmsg", errmsg);
	} else {
		res->rc = S1(SYS_jail_remove, jid);
		orc(res->rc), okv("jid", jid);
	}
	oresult(st, res);
}

static void
do_kldload(const struct step *st, struct result *res)
{
	const char *path = st->argc > 0 ? st->argv[0] : "";

	res->rc = S1(SYS_kldload, path);
	ohead(st), oks("arg", path), orc(res->rc);
	oresult(st, res);
}

static void
do_kldunload(const struct step *st, struct result *res)
{
	const char *name = st->argc > 0 ? st->argv[0] : "";
	long id = S1(SYS_kldfind, name);

	ohead(st), oks("arg", name);
	if (id < 0) {
		res->rc = id;
		os(" phase=kldfind"), orc(id);
	} else {
		res->rc = S1(SYS_kldunload, id);
		orc(res->rc), okv("fileid", id);
	}
	oresult(st, res);
}

static void
do_kldfind(const struct step *st, struct result *res)
{
	const char *name = st->argc > 0 ? st->argv[0] : "";

	res->rc = S1(SYS_kldfind, name);
	ohead(st), oks("arg", name), orc(res->rc);
	oresult(st, res);
}

/* Copies a name into a NUL-padded IFNAMSIZ field; 0 if it does not fit. */
static int
ifname_set(char *dst, const char *src)
{
	size_t n = slen(src);

	if (n >= IFNAMSIZ)
		return (0);
	memset(dst, 0, IFNAMSIZ);
	memcpy(dst, src, n);
	return (1);
}

static void
do_ifconfig(const struct step *st, struct result *res)
{
	const char *ifname = st->argc > 0 ? st->argv[0] : "";
	const char *action = st->argc > 1 ? st->argv[1] : "exists";
	const char *arg = st->argc > 2 ? st->argv[2] : "";
	struct vg_ifreq ifr;
	struct vg_ifdrv ifd;
	struct vg_ifbreq req;
	struct vg_vlanreq vlr;
	long long tag = 0;
	long r = 0, s, jid;
	int query = 0;

	memset(&ifr, 0, sizeof(ifr));
	memset(&vlr, 0, sizeof(vlr));
	errmsg[0] = 0;
	s = -EINVAL;
	if (!ifname_set(ifr.name, ifname) ||
	    (s = S3(SYS_socket, AF_LOCAL, SOCK_DGRAM, 0)) < 0)
		r = s;
	else if (seq(action, "exists")) {
		r = S3(SYS_ioctl, s, SIOCGIFFLAGS, &ifr);
	} else if (seq(action, "create")) {
		r = S3(SYS_ioctl, s, SIOCIFCREATE2, &ifr);
	} else if (seq(action, "destroy")) {
		r = S3(SYS_ioctl, s, SIOCIFDESTROY, &ifr);
	} else if (seq(action, "vnet") || seq(action, "-vnet")) {
		jid = jail_lookup(arg);
		if (jid < 0)
			r = jid;
		else {
			ifr.u.jid = (int)jid;
			r = S3(SYS_ioctl, s, seq(action, "vnet") ? SIOCSIFVNET :
			    SIOCSIFRVNET, &ifr);
		}
	} else if (seq(action, "addm")) {
		memset(&ifd, 0, sizeof(ifd));
		memset(&req, 0, sizeof(req));
		if (!ifname_set(ifd.name, ifname) || !ifname_set(req.name, arg))
			r = -EINVAL;
		else {
			ifd.cmd = BRDGADD;
			ifd.len = sizeof(req);
			ifd.data = &req;
			r = S3(SYS_ioctl, s, SIOCSDRVSPEC, &ifd);
		}
	} else if (seq(action, "vlan")) {
		/* vlan TAG vlandev PARENT */
		if (st->argc < 5 || !parse_int(arg, &tag) ||
		    !seq(st->argv[3], "vlandev") ||
		    !ifname_set(vlr.parent, st->argv[4]))
			r = -EINVAL;
		else {
			vlr.tag = (unsigned short)tag;
			ifr.u.data = &vlr;
			r = S3(SYS_ioctl, s, SIOCSIFGENERIC, &ifr);
		}
	} else if (seq(action, "getvlan")) {
		ifr.u.data = &vlr;
		r = S3(SYS_ioctl, s, SIOCGIFGENERIC, &ifr);
		query = 1;
	} else
		r = -EINVAL;
	if (s >= 0)
		S1(SYS_close, s);
	res->rc = r;
	ohead(st), oks("arg", ifname), oks("action", action), orc(r);
	if (errmsg[0])
		oks("errmsg", errmsg);
	if (r >= 0 && seq(action, "create")) {
		ifr.name[IFNAMSIZ - 1] = 0;
		oks("name", ifr.name);
	}
	if (r >= 0 && query) {
		res->has_value = 1, res->value = vlr.tag;
		okv("value", vlr.tag);
	}
	oresult(st, res);
}

/* Runs the operation in this process; prints its line. */
static void
run_op(const struct step *st, struct result *res)
{
	if (seq(st->op, "kldload"))
		do_kldload(st, res);
	else if (seq(st->op, "kldunload"))
		do_kldunload(st, res);
	else if (seq(st->op, "kldfind"))
		do_kldfind(st, res);
	else if (seq(st->op, "sysctl"))
		do_sysctl(st, res);
	else if (seq(st->op, "call"))
		do_call(st, res);
	else if (seq(st->op, "vnet-create"))
		do_vnet_create(st, res);
	else if (seq(st->op, "vnet-destroy"))
		do_vnet_destroy(st, res);
	else if (seq(st->op, "ifconfig"))
		do_ifconfig(st, res);
	else {
		res->rc = -EINVAL;
		ohead(st), os(" phase=unknown-op"), orc(res->rc);
		oresult(st, res);
	}
}

static void
fail_line(const struct step *st, struct result *res, const char *phase,
    long r)
{
	res->rc = r < 0 ? r : -EINVAL;
	ohead(st), oks("phase", phase), orc(res->rc);
	if (errmsg[0])
		oks("errmsg", errmsg);
	oresult(st, res);
}

static int
pin(long long cpu)
{
	unsigned long mask[16 / sizeof(long)];
	unsigned i;

	for (i = 0; i < sizeof(mask) / sizeof(mask[0]); i++)
		mask[i] = 0;
	if (cpu < 0 || cpu >= 128)
		return (-EINVAL);
	mask[cpu / (8 * sizeof(long))] |= 1UL << (cpu % (8 * sizeof(long)));
#if defined(__x86_64__)
	return ((int)S6(SYS_cpuset_setaffinity, CPU_LEVEL_WHICH, CPU_WHICH_PID,
	    -1, sizeof(mask), mask, 0));
#else
	/* id_t is 64 bits: two words on i386. */
	return ((int)S6(SYS_cpuset_setaffinity, CPU_LEVEL_WHICH, CPU_WHICH_PID,
	    -1, -1, sizeof(mask), mask));
#endif
}

/*
 * What became of a step: 0 it gave what it wants and succeeded, 1 it gave
 * what it wants and failed (want=any or want=fail), 2 it did not.
 */
static int
outcome(const struct step *st, const struct result *res)
{
	if (!satisfied(st, res))
		return (2);
	return (res->rc < 0 ? 1 : 0);
}

/* Runs one step, in a child when it names a jail or a CPU. */
static int
run_step(const struct step *st)
{
	struct result res = { 0, 0, 0 };
	long long cpu = 0;
	long jid = 0, pid, w, r;
	int status = 0;

	if (!st->jail && !st->cpu) {
		run_op(st, &res);
		return (outcome(st, &res));
	}
	if (st->cpu && !parse_int(st->cpu, &cpu)) {
		fail_line(st, &res, "cpu", -EINVAL);
		return (outcome(st, &res));
	}
	if (st->jail) {
		jid = jail_lookup(st->jail);
		if (jid < 0) {
			fail_line(st, &res, "jail_get", jid);
			return (outcome(st, &res));
		}
	}
	pid = S1(SYS_fork, 0);
	if (pid < 0) {
		fail_line(st, &res, "fork", pid);
		return (outcome(st, &res));
	}
	if (pid == 0) {
		if (st->jail && (r = S1(SYS_jail_attach, jid)) < 0) {
			fail_line(st, &res, "jail_attach", r);
			S1(SYS_exit, outcome(st, &res));
		}
		if (st->cpu && (r = pin(cpu)) < 0) {
			fail_line(st, &res, "cpuset_setaffinity", r);
			S1(SYS_exit, outcome(st, &res));
		}
		run_op(st, &res);
		S1(SYS_exit, outcome(st, &res));
		for (;;)
			;
	}
	do
		w = S4(SYS_wait4, pid, &status, 0, 0);
	while (w == -EINTR);
	if (w < 0 || (status & 0x7f) != 0) {
		/* The child died without its line (a signal). */
		ohead(st), os(" phase=wait"), orc(w < 0 ? w : -EINVAL);
		okv("status", status), okv("ok", 0), oend();
		return (2);
	}
	return ((status >> 8) & 0xff);
}

static char plan[262144];

/* Power off at once: nothing to sync on a read-only memory disk. */
static void
poweroff(void)
{
	struct timespec ts = { 1, 0 };
	const char *n = "kern.shutdown.poweroff_delay";
	int zero = 0;

	S6(SYS___sysctlbyname, n, slen(n), 0, 0, &zero, sizeof(zero));
	S1(SYS_reboot, RB_POWEROFF | RB_NOSYNC);
	for (;;)
		S2(SYS_nanosleep, &ts, 0);
}

static long
read_int_sysctl(const char *name, long dflt)
{
	int v = 0;
	size_t len = sizeof(v);

	if (S6(SYS___sysctlbyname, name, slen(name), &v, &len, 0, 0) < 0)
		return (dflt);
	return (v);
}

static void
quiet_link_states(void)
{
	const char *n = "net.link.log_link_state_change";
	int zero = 0;

	S6(SYS___sysctlbyname, n, slen(n), 0, 0, &zero, sizeof(zero));
}

void
vg_main(void)
{
	char *p, *line, *s, *argv[MAXARGS + 4];
	const char *skipping = 0, *skip_step = 0, *v;
	struct step st;
	long fd, r;
	size_t n = 0;
	int argc, i, nsteps = 0, ok;

	cons = (int)S3(SYS_open, "/dev/console", O_RDWR | O_NOCTTY, 0);
	/*
	 * An interface's link state changes are printed by a taskqueue, at
	 * any time, into the middle of our lines: keep them off the console
	 * (net.link.log_link_state_change, 13.2 and 15.1 sys/net/if.c).
	 */
	quiet_link_states();
	os("@@VNETGEN init arch=" ARCH);
	okv("osreldate", read_int_sysctl("kern.osreldate", 0));
	okv("vimage", read_int_sysctl("kern.features.vimage", 0));
	okv("ncpu", read_int_sysctl("hw.ncpu", 0));
	oend();

	fd = S3(SYS_open, PLAN_PATH, O_RDONLY, 0);
	if (fd >= 0) {
		while (n < sizeof(plan) - 1 &&
		    (r = S3(SYS_read, fd, plan + n, sizeof(plan) - 1 - n)) > 0)
			n += (size_t)r;
		S1(SYS_close, fd);
	} else {
		os("@@VNETGEN error no-plan"), okv("errno", -fd), oend();
	}
	plan[n] = 0;

	for (p = plan; *p;) {
		line = p;
		while (*p && *p != '\n')
			p++;
		if (*p)
			*p++ = 0;
		argc = 0;
		s = line;
		while (*s && argc < MAXARGS + 3) {
			while (*s == ' ' || *s == '\t' || *s == '\r')
				*s++ = 0;
			if (!*s || *s == '#')
				break;
			argv[argc++] = s;
			while (*s && *s != ' ' && *s != '\t' && *s != '\r')
				s++;
		}
		if (*s == '#')
			*s = 0;
		if (argc < 2)
			continue;
		if (seq(argv[0], "begin") || seq(argv[0], "cleanup") ||
		    seq(argv[0], "end")) {
			if (!seq(argv[0], "begin") && skipping &&
			    seq(skipping, argv[1]))
				skipping = 0;
			if (seq(argv[0], "begin"))
				skipping = 0;
			os("@@VNETGEN "), os(argv[0]), os("="), os(argv[1]);
			oend();
			continue;
		}
		if (skipping || !seq(argv[0], "step") || argc < 3)
			continue;
		if (skip_step && seq(skip_step, argv[1]))
			continue;
		skip_step = 0;
		st.id = argv[1];
		st.op = argv[2];
		st.jail = st.cpu = st.want = st.newval = 0;
		st.argc = 0;
		for (i = 3; i < argc; i++) {
			if ((v = prefixed(argv[i], "jail=")))
				st.jail = v;
			else if ((v = prefixed(argv[i], "cpu=")))
				st.cpu = v;
			else if ((v = prefixed(argv[i], "want=")))
				st.want = v;
			else if ((v = prefixed(argv[i], "new=")))
				st.newval = v;
			else if (st.argc < MAXARGS)
				st.argv[st.argc++] = argv[i];
		}
		nsteps++;
		ok = run_step(&st);
		if (ok == 1) {
			/* A failure it may give: the step's other lines are skipped. */
			skip_step = st.id;
			continue;
		}
		if (ok == 2) {
			/* The scenario's id is the step id up to its dot. */
			static char sid[64];
			size_t k = 0;

			while (st.id[k] && st.id[k] != '.' && k < sizeof(sid) - 1) {
				sid[k] = st.id[k];
				k++;
			}
			sid[k] = 0;
			skipping = sid;
			os("@@VNETGEN skip="), os(sid), oend();
		}
	}
	os("@@VNETGEN done"), okv("steps", nsteps), oend();
	poweroff();
}
