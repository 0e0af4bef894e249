/* Port bring-up: info, configure, queues on the port's socket, MAC, start. Main lcore only. */
#ifndef XVS_DP_PORT_H
#define XVS_DP_PORT_H

#include <rte_mempool.h>

#include "dp.h"

/* Whether every port has a TX queue to spare beyond nb_queues (for the main lcore). */
int xvs_port_spare_txq(const struct xvs_dp *dp, unsigned nb_queues);

/*
 * Choose how packets reach their connection's worker (dp_rss.h): 1 when the NIC steers
 * (dp->steer's model is set up for it), 0 for software (msg says why, "" with one worker),
 * negative when [dataplane] steering = nic and a port cannot (msg says why). After
 * xvs_port_find_all, before xvs_port_init_all.
 */
int xvs_port_plan_steering(struct xvs_dp *dp, unsigned nb_workers, char *msg, size_t msglen);

/* Find each configured port's DPDK id (p->port_id), once EAL has probed the devices. */
int xvs_port_find_all(struct xvs_dp *dp, char *err, size_t errlen);

/* Set up every found port with nb_queues RX queues (mbufs from p->rx_pool) and nb_txq TX queues. */
int xvs_port_init_all(struct xvs_dp *dp, unsigned nb_queues, unsigned nb_txq, char *err,
		      size_t errlen);
int xvs_port_start_all(struct xvs_dp *dp, char *err, size_t errlen);
void xvs_port_stop_all(struct xvs_dp *dp);

#endif
