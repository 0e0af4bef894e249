/*
 * Readiness and shutdown notification to systemd (sd_notify(3)) for the Type=notify units of
 * systemd/. Built without libsystemd (-Dsystemd=disabled), these do nothing.
 */
#ifndef XVS_NOTIFY_H
#define XVS_NOTIFY_H

#ifdef XVS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* "READY=1", "STOPPING=1", ...; without NOTIFY_SOCKET in the environment nothing is sent. */
static inline void xvs_notify(const char *state)
{
#ifdef XVS_HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

#endif
