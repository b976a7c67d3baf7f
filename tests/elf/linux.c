/* SPDX-License-Identifier: BSD-2-Clause */
/* An object for another system: built by gcc for Linux. */
int linux_counter = 3;
int linux_bump(void);
int linux_bump(void) { return (++linux_counter); }
