/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Compiler attributes the kernel defines in <linux/compiler_attributes.h>; passed with
 * -include when test programs compile kernel-flavor headers outside a kernel tree.
 */
#define __packed	__attribute__((__packed__))
#define __aligned(x)	__attribute__((__aligned__(x)))
