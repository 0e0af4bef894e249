/* Port bring-up with the fixed sequence: info, configure, queues, MAC, start. Main lcore. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_random.h>

#include "dp_port.h"
#include "dp_rss.h"

RTE_LOG_REGISTER(xvs_port_logtype, xvs.port, INFO);
#define PORT_LOG(level, ...) rte_log(RTE_LOG_##level, xvs_port_logtype, "xvs.port: " __VA_ARGS__)

/* The device's ethdev name is its spec up to the first comma; a longer one names no port. */
static int port_id_of(const struct xvs_port *p, uint16_t *id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t len = strcspn(p->dev, ",");
	if (len >= sizeof(name))
		return -ENODEV;
	memcpy(name, p->dev, len);
	name[len] = 0;
	return rte_eth_dev_get_port_by_name(name, id);
}

/*
 * A vdev over a kernel interface (net_af_packet, net_af_xdp: "iface=X") reports DPDK's
 * default MTU, not the interface's: read the real one from sysfs. 0 when not applicable.
 */
static uint16_t kernel_iface_mtu(const char *dev)
{
	const char *i = strstr(dev, "iface=");
	char name[64], path[128];
	unsigned mtu = 0;
	if (!i || sscanf(i + 6, "%63[^,]", name) != 1)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", name);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%u", &mtu) != 1 || mtu > 65535)
		mtu = 0;
	fclose(f);
	return (uint16_t)mtu;
}

static int port_setup(struct xvs_port *p, const struct xvs_steer *st, unsigned nb_rxq,
		      unsigned nb_txq, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = { 0 };
	int rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc < 0)
		goto fail;
	if (nb_rxq > info.max_rx_queues || nb_txq > info.max_tx_queues) {
		snprintf(err, errlen, "port %s: %u rx / %u tx queues wanted, device has %u rx / %u tx",
			 p->name, nb_rxq, nb_txq, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	if (nb_rxq > 1 && st->nic) {
		/* the client's fields alone, under xvs's key: both directions reach the owner */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = (uint8_t *)(uintptr_t)st->rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
		conf.rx_adv_conf.rss_conf.rss_hf = xvs_rss_hf(p->faces);
	} else if (nb_rxq > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	/* where the NIC checks checksums on receive, its verdict drops bad ones (dp_parse.h) */
	conf.rxmode.offloads |= info.rx_offload_capa &
		(RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
		 RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_SCTP_CKSUM);
	rc = rte_eth_dev_configure(p->port_id, (uint16_t)nb_rxq, (uint16_t)nb_txq, &conf);
	if (rc < 0)
		goto fail;
	uint16_t rxd = p->rxq_size, txd = p->txq_size;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rxd, &txd);
	if (rc < 0)
		goto fail;
	int socket = rte_eth_dev_socket_id(p->port_id);
	for (unsigned q = 0; q < nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, (uint16_t)q, rxd, (unsigned)socket, NULL, p->rx_pool);
		if (rc < 0)
			goto fail;
	}
	for (unsigned q = 0; q < nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(p->port_id, (uint16_t)q, txd, (unsigned)socket, NULL);
		if (rc < 0)
			goto fail;
	}
	if (p->mtu == 0)
		p->mtu = kernel_iface_mtu(p->dev);
	if (p->mtu == 0 && rte_eth_dev_get_mtu(p->port_id, &p->mtu) < 0)
		p->mtu = RTE_ETHER_MTU;
	if (p->mac_set) {
		/* Not every vdev can change its MAC; xvs writes source MACs itself anyway. */
		if (rte_eth_dev_default_mac_addr_set(p->port_id, &p->mac) < 0)
			PORT_LOG(INFO, "port %s keeps its hardware MAC; using the configured one\n", p->name);
	} else if ((rc = rte_eth_macaddr_get(p->port_id, &p->mac)) < 0) {
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "port %s (%s): %s", p->name, p->dev, rte_strerror(-rc));
	return rc;
}

int xvs_port_spare_txq(const struct xvs_dp *dp, unsigned nb_queues)
{
	for (unsigned i = 0; i < dp->nb_ports; i++) {
		uint16_t id;
		struct rte_eth_dev_info info;
		if (port_id_of(&dp->ports[i], &id) < 0 || rte_eth_dev_info_get(id, &info) < 0 ||
		    info.max_tx_queues <= nb_queues)
			return 0;
	}
	return 1;
}

int xvs_port_plan_steering(struct xvs_dp *dp, unsigned nb_workers, char *msg, size_t msglen)
{
	struct xvs_rss_port rp[XVS_MAX_PORTS];
	for (unsigned i = 0; i < dp->nb_ports; i++) {
		struct rte_eth_dev_info info;
		memset(&rp[i], 0, sizeof(rp[i]));
		rp[i].name = dp->ports[i].name;
		rp[i].faces = dp->ports[i].faces;
		if (rte_eth_dev_info_get(dp->ports[i].port_id, &info) == 0) {
			rp[i].offloads = info.flow_type_rss_offloads;
			rp[i].reta_size = info.reta_size;
			rp[i].key_size = info.hash_key_size;
		}
	}
	int rc = xvs_rss_plan(rp, dp->nb_ports, nb_workers, (enum xvs_steering_cfg)dp->cfg.steering,
			      msg, msglen);
	if (rc == 1) {
		uint8_t key[XVS_RSS_KEY_MAX];
		for (unsigned i = 0; i < XVS_RSS_KEY_MAX; i += 8) {
			uint64_t r = rte_rand();
			memcpy(key + i, &r, 8);
		}
		xvs_rss_model_init(&dp->steer, key, rp[0].reta_size, nb_workers);
	}
	return rc;
}

/* Steering by the NIC: entry i of every port's redirection table is queue i % workers. */
static int program_reta(const struct xvs_port *p, const struct xvs_steer *st)
{
	struct rte_eth_rss_reta_entry64 conf[XVS_RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	memset(conf, 0, sizeof(conf));
	for (unsigned i = 0; i < st->reta_size; i++) {
		conf[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
		conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = st->reta[i];
	}
	return rte_eth_dev_rss_reta_update(p->port_id, conf, (uint16_t)st->reta_size);
}

int xvs_port_find_all(struct xvs_dp *dp, char *err, size_t errlen)
{
	for (unsigned i = 0; i < dp->nb_ports; i++) {
		struct xvs_port *p = &dp->ports[i];
		if (port_id_of(p, &p->port_id) < 0) {
			snprintf(err, errlen, "port %s: no DPDK device for '%s'", p->name, p->dev);
			return -ENODEV;
		}
	}
	return 0;
}

int xvs_port_init_all(struct xvs_dp *dp, unsigned nb_queues, unsigned nb_txq, char *err,
		      size_t errlen)
{
	for (unsigned i = 0; i < dp->nb_ports; i++) {
		int rc = port_setup(&dp->ports[i], &dp->steer, nb_queues, nb_txq, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int xvs_port_start_all(struct xvs_dp *dp, char *err, size_t errlen)
{
	for (unsigned i = 0; i < dp->nb_ports; i++) {
		struct xvs_port *p = &dp->ports[i];
		int rc = rte_eth_dev_start(p->port_id);
		if (rc < 0) {
			snprintf(err, errlen, "port %s: start: %s", p->name, rte_strerror(-rc));
			return rc;
		}
		if (dp->steer.nic && (rc = program_reta(p, &dp->steer)) < 0) {
			snprintf(err, errlen, "port %s: redirection table: %s", p->name, rte_strerror(-rc));
			return rc;
		}
		/* Frames for the configured MAC and broadcasts must reach us on any device. */
		rte_eth_promiscuous_enable(p->port_id);
		char mac[RTE_ETHER_ADDR_FMT_SIZE];
		rte_ether_format_addr(mac, sizeof(mac), &p->mac);
		PORT_LOG(INFO, "port %s: dpdk port %u, mac %s, %u address(es)\n", p->name, p->port_id,
			 mac, p->nb_addrs);
	}
	return 0;
}

void xvs_port_stop_all(struct xvs_dp *dp)
{
	for (unsigned i = 0; i < dp->nb_ports; i++) {
		rte_eth_dev_stop(dp->ports[i].port_id);
		rte_eth_dev_close(dp->ports[i].port_id);
	}
}
