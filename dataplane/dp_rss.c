/* Steering by the NIC: the planner and the model of the ports' RSS (dp_rss.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dp_rss.h"

/* The flow types xvs's connections use; the NIC must hash each on the chosen side alone. */
#define RSS_TYPES (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP | \
		   RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_NONFRAG_IPV6_UDP)
#define RSS_SRC (RTE_ETH_RSS_L3_SRC_ONLY | RTE_ETH_RSS_L4_SRC_ONLY)
#define RSS_DST (RTE_ETH_RSS_L3_DST_ONLY | RTE_ETH_RSS_L4_DST_ONLY)

uint64_t xvs_rss_hf(uint8_t faces)
{
	return RSS_TYPES | (faces == XVS_FACES_SERVERS ? RSS_DST : RSS_SRC);
}

/* Why port p cannot be steered by its NIC, or NULL if it can. */
static const char *port_unfit(const struct xvs_rss_port *p, char *buf, size_t len)
{
	if (p->faces == XVS_FACES_UNSET)
		return "it has no 'faces' (clients or servers)";
	if (p->faces == XVS_FACES_BOTH)
		return "it faces both sides (one-armed: the two directions need per-match RSS)";
	uint64_t want = xvs_rss_hf(p->faces);
	if ((p->offloads & want) != want) {
		snprintf(buf, len, "it cannot hash on the %s fields alone (flow_type_rss_offloads 0x%llx)",
			 p->faces == XVS_FACES_SERVERS ? "destination" : "source",
			 (unsigned long long)p->offloads);
		return buf;
	}
	if (p->reta_size == 0 || p->reta_size > XVS_RSS_RETA_MAX || (p->reta_size & (p->reta_size - 1)))
		return "its redirection table size is not a power of two up to 512";
	if (p->key_size < XVS_RSS_IN_MAX + 4 || p->key_size > XVS_RSS_KEY_MAX)
		return "its hash key size is not supported";
	return NULL;
}

int xvs_rss_plan(const struct xvs_rss_port *ports, unsigned nb_ports, unsigned nb_workers,
		 enum xvs_steering_cfg mode, char *msg, size_t msglen)
{
	char buf[160];
	const char *why = NULL;
	unsigned i;
	msg[0] = 0;
	if (nb_workers <= 1)
		return 0;
	if (mode == XVS_STEERING_SOFTWARE) {
		snprintf(msg, msglen, "steering = software");
		return 0;
	}
	for (i = 0; i < nb_ports && !why; i++) {
		why = port_unfit(&ports[i], buf, sizeof(buf));
		if (!why && ports[i].reta_size != ports[0].reta_size)
			why = "its redirection table size differs from the first port's";
		if (!why && nb_workers > ports[i].reta_size)
			why = "it has fewer redirection entries than workers";
	}
	if (!why && nb_ports == 0)
		why = "there is no port";
	if (!why)
		return 1;
	if (i > 0 && i <= nb_ports)
		snprintf(msg, msglen, "port %s: %s", ports[i - 1].name ? ports[i - 1].name : "?", why);
	else
		snprintf(msg, msglen, "%s", why);
	return mode == XVS_STEERING_NIC ? -EINVAL : 0;
}

void xvs_rss_model_init(struct xvs_steer *s, const uint8_t *key, unsigned reta_size,
			unsigned nb_workers)
{
	memcpy(s->rss_key, key, XVS_RSS_KEY_MAX);
	xvs_rss_tables(s->tab, s->rss_key);
	s->reta_size = reta_size;
	for (unsigned i = 0; i < reta_size; i++)
		s->reta[i] = (uint8_t)(i % nb_workers);
	s->nic = 1;
}
