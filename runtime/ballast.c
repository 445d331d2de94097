/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Benchmark ballast (bench/peers.sh): what makes a real QEMU core costly
 * to read without changing its hang.  --bhs N idle BHs on the main
 * context, as a guest with many devices has; --ram-mib N of touched
 * memory, in --region-mib pieces kept apart by a PROT_NONE page so each
 * is its own mapping, as guest RAM split in memory regions is.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aiocore-rt.h"
#include "block/aio.h"
#include "qemu/main-loop.h"

static void ballast_bh(void *opaque)
{
	(void)opaque;
}

int ballast_add(void)
{
	unsigned i;

	for (i = 0; i < rt_opts.bhs; i++)
		if (!aio_bh_new(qemu_get_aio_context(), ballast_bh, NULL))
			return -1;
	if (rt_opts.ram_mib) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		size_t region = (size_t)(rt_opts.region_mib ? rt_opts.region_mib : rt_opts.ram_mib)
				<< 20;
		size_t n = ((size_t)rt_opts.ram_mib << 20) / region;
		char *base = mmap(NULL, n * (region + page), PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (base == MAP_FAILED)
			return -1;
		for (i = 0; i < n; i++) {
			char *r = base + i * (region + page);

			if (mprotect(r, region, PROT_READ | PROT_WRITE) < 0)
				return -1;
			/* Non-zero pages: gcore writes them all. */
			memset(r, 0x5a, region);
		}
	}
	return 0;
}
