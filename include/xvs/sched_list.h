/*
 * The scheduler registry: one line per scheduler, XVS_SCHED(ID, name). This file is the only
 * list of schedulers. C includes it with XVS_SCHED defined to build the ids (enum
 * xvs_sched_id), the extern declarations and xvs_sched_all[]; sched/meson.build reads the
 * same lines to compile sched/xvs_sched_<name>.c, which must define
 * `const struct xvs_sched_ops xvs_sched_<name>`. Adding a scheduler is that file and one line
 * here. The order gives the ids that generations carry; control and dataplane check that
 * they were built from the same list (xvs_sched_registry_id()).
 *
 * No include guard: it is meant to be included several times.
 */
XVS_SCHED(RR, rr)
XVS_SCHED(WRR, wrr)
XVS_SCHED(LC, lc)
XVS_SCHED(WLC, wlc)
XVS_SCHED(SED, sed)
XVS_SCHED(NQ, nq)
XVS_SCHED(FO, fo)
XVS_SCHED(OVF, ovf)
XVS_SCHED(TWOS, twos)
XVS_SCHED(SH, sh)
XVS_SCHED(DH, dh)
XVS_SCHED(MH, mh)
XVS_SCHED(LBLC, lblc)
XVS_SCHED(LBLCR, lblcr)
