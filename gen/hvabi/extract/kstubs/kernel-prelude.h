/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a kernel build provides implicitly (compiler attributes, IS_ENABLED(), the
 * flexible-array helpers, static_assert); passed with -include when tests compile
 * kernel-flavor headers outside a kernel tree.
 */
#define __packed	__attribute__((__packed__))
#define __aligned(x)	__attribute__((__aligned__(x)))

#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define __is_defined(x) ___is_defined(x)
#define ___is_defined(val) ____is_defined(__ARG_PLACEHOLDER_##val)
#define ____is_defined(arg1_or_junk) __take_second_arg(arg1_or_junk 1, 0)
#define IS_ENABLED(option) __is_defined(option)

#include <linux/stddef.h>
#include <linux/build_bug.h>
/* hvgdk_mini.h uses NSEC_PER_SEC without including it; kernel users always have it. */
#include <linux/time64.h>
