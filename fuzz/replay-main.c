/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A main() for the fuzz targets without libFuzzer: runs each file given
 * (or each file in each directory given) through LLVMFuzzerTestOneInput
 * once, in name order.  The normal build links the targets with it, so
 * the test suite replays the corpora in fixtures/fuzz-corpus/ with gcc,
 * and under ASan/UBSan in CI's sanitizer run.
 *
 *   fuzz-notes-replay FILE|DIR...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t n_run;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	uint8_t *data = NULL;
	size_t size = 0, cap = 0;
	for (;;) {
		if (size == cap) {
			cap = cap ? 2 * cap : 65536;
			/* Grown by doubling, freed below: one buffer per file. */
			uint8_t *grown = realloc(data, cap);
			if (!grown) {
				fprintf(stderr, "%s: out of memory\n", path);
				free(data);
				fclose(f);
				return 1;
			}
			data = grown;
		}
		size_t n = fread(data + size, 1, cap - size, f);
		size += n;
		if (n == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: read error\n", path);
		free(data);
		return 1;
	}
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	n_run++;
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name);
	if (n < 0) {
		perror(dir);
		return 1;
	}
	int status = 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			status |= run_file(path);
		}
		free(names[i]);
	}
	free(names);
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 64;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	int status = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			status = 1;
		} else if (S_ISDIR(st.st_mode)) {
			status |= run_dir(argv[i]);
		} else {
			status |= run_file(argv[i]);
		}
	}
	printf("%zu inputs run\n", n_run);
	return status;
}
