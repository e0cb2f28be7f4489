/* SPDX-License-Identifier: GPL-2.0 */
/* Test stand-in for the kernel's <linux/stddef.h>: the flexible-array helpers. */
#ifndef _HVABI_STUB_LINUX_STDDEF_H
#define _HVABI_STUB_LINUX_STDDEF_H

#include <stddef.h>

#define __DECLARE_FLEX_ARRAY(TYPE, NAME) \
	struct { struct { } __empty_ ## NAME; TYPE NAME[]; }
#define DECLARE_FLEX_ARRAY(TYPE, NAME) __DECLARE_FLEX_ARRAY(TYPE, NAME)
#define __TRAILING_OVERLAP(TYPE, NAME, FAM, ATTRS, MEMBERS) \
	union { TYPE NAME; struct { unsigned char __offset_to_##FAM[offsetof(TYPE, FAM)]; \
	MEMBERS } ATTRS; }

#endif
