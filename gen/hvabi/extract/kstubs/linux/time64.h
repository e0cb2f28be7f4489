/* SPDX-License-Identifier: GPL-2.0 */
/* Test stand-in for the kernel's <linux/time64.h>. */
#ifndef _HVABI_STUB_LINUX_TIME64_H
#define _HVABI_STUB_LINUX_TIME64_H

#define NSEC_PER_SEC	1000000000L

#endif
