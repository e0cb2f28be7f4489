/* SPDX-License-Identifier: GPL-2.0 */
/* Test stand-in for the kernel's <asm/page.h>. */
#ifndef _HVABI_STUB_ASM_PAGE_H
#define _HVABI_STUB_ASM_PAGE_H

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)

#endif
