/* The daemons' pidfiles. */
#ifndef XVS_PIDFILE_H
#define XVS_PIDFILE_H

/* Write this process's pid and a newline to path (created 0644, replaced). 0 or -errno. */
int xvs_write_pidfile(const char *path);

#endif
