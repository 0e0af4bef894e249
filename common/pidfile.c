/* The daemons' pidfiles (xvs/pidfile.h). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "xvs/pidfile.h"

int xvs_write_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : -errno;
}
