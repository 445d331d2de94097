/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a page of docs/ is, for the verdict's "Docs:" line and the JSON
 * "doc" field.
 *
 * How it knows it runs installed: from where its own code is, not from a
 * configured path alone.  The code lives in `aiocore` (installed in BINDIR)
 * or in libaiocore-gdb.so inside gdb (LIBDIR/aiocore); when that directory
 * ends with the configured BINDIR or LIBDIR/aiocore, what is before it is
 * the prefix it was installed under, and the page is PREFIX/DOCDIR/page if
 * it exists there.  This follows a DESTDIR staging tree or a moved prefix,
 * and a build tree never matches (its binaries sit in analyzer/cli/ and
 * analyzer/gdb/), so an uninstalled build prints the source tree's
 * "docs/PAGE" as always, whatever copy of aiocore is installed on the
 * machine: the golden files of the build tree do not change.
 */
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view.h"

/* The file this code was loaded from: aiocore, or libaiocore-gdb.so. */
static bool own_file(char *buf)
{
	Dl_info info;
	struct link_map *map = NULL;
	if (dladdr1((void *)own_file, &info, (void **)&map, RTLD_DL_LINKMAP) && map &&
	    map->l_name && map->l_name[0])
		return realpath(map->l_name, buf) != NULL;
	/* The main program's link map has no name: it is /proc/self/exe. */
	return realpath("/proc/self/exe", buf) != NULL;
}

/* DIR is ROOT/HOME for the configured HOME: ROOT into root. */
static bool install_root(const char *dir, const char *home, char *root, size_t size)
{
	size_t n = strlen(dir), k = strlen(home);
	if (home[0] == '/') {    /* HOME outside the prefix: only that exact place */
		if (strcmp(dir, home))
			return false;
		snprintf(root, size, "%s", AIOCORE_PREFIX);
		return true;
	}
	if (n <= k || dir[n - k - 1] != '/' || strcmp(dir + n - k, home))
		return false;
	snprintf(root, size, "%.*s", (int)(n - k - 1), dir);
	return true;
}

const char *ac_view_doc_path(const char *page, char *buf, size_t size)
{
	static const char *const homes[] = { AIOCORE_BINDIR, AIOCORE_GDB_LIBDIR };
	char self[PATH_MAX], root[PATH_MAX];
	if (own_file(self)) {
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		for (size_t i = 0; i < sizeof(homes) / sizeof(homes[0]); i++) {
			if (!install_root(self, homes[i], root, sizeof(root)))
				continue;
			if (AIOCORE_DOCDIR[0] == '/')
				snprintf(buf, size, "%s/%s", AIOCORE_DOCDIR, page);
			else
				snprintf(buf, size, "%s/%s/%s", root, AIOCORE_DOCDIR, page);
			if (!access(buf, R_OK))
				return buf;
		}
	}
	snprintf(buf, size, "docs/%s", page);
	return buf;
}
