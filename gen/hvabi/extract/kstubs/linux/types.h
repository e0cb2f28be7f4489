/* SPDX-License-Identifier: GPL-2.0 */
/* Test stand-in for the kernel's <linux/types.h>: just the integer types hvabi emits. */
#ifndef _HVABI_STUB_LINUX_TYPES_H
#define _HVABI_STUB_LINUX_TYPES_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef u8 __u8;
typedef u16 __u16;
typedef u32 __u32;
typedef u64 __u64;
typedef s8 __s8;
typedef s16 __s16;
typedef s32 __s32;
typedef s64 __s64;
typedef unsigned long ulong;
typedef _Bool bool;

#endif
