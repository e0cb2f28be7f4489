/* SPDX-License-Identifier: GPL-2.0 */
/* Test stand-in for the kernel's <linux/build_bug.h>. */
#ifndef _HVABI_STUB_LINUX_BUILD_BUG_H
#define _HVABI_STUB_LINUX_BUILD_BUG_H

#define static_assert(expr, ...) _Static_assert(expr, #expr)

#endif
