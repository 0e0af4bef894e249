/* INI configuration of xvs-dataplane, read with inih (start-up, main lcore). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "dp_config.h"

struct load_ctx {
	struct xvs_dp *dp;
	struct xvs_cfg_extra *x;
	char *err;
	size_t errlen;
	int failed;
};

static int fail(struct load_ctx *c, const char *fmt, const char *a, const char *b)
{
	if (!c->failed)
		snprintf(c->err, c->errlen, fmt, a, b);
	c->failed = 1;
	return 0;
}

int xvs_config_parse_prefix(const char *s, uint32_t *addr, uint8_t *len)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	long l = 32;
	if (slash) {
		char *end;
		*slash = 0;
		l = strtol(slash + 1, &end, 10);
		if (*end || l < 0 || l > 32)
			return -EINVAL;
	}
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	*len = (uint8_t)l;
	return 0;
}

int xvs_config_parse_prefix_any(const char *s, uint8_t *af, union xvs_ip *addr, uint8_t *len)
{
	memset(addr, 0, sizeof(*addr));
	if (!strchr(s, ':')) {
		*af = XVS_AF_INET;
		return xvs_config_parse_prefix(s, &addr->v4, len);
	}
	char buf[80];
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	long l = 128;
	if (slash) {
		char *end;
		*slash = 0;
		l = strtol(slash + 1, &end, 10);
		if (*end || l < 0 || l > 128)
			return -EINVAL;
	}
	if (inet_pton(AF_INET6, buf, addr->v6) != 1)
		return -EINVAL;
	*af = XVS_AF_INET6;
	*len = (uint8_t)l;
	return 0;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 0);
	if (errno || *end || end == v || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

static int parse_bool(const char *v)
{
	return !strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	       !strcasecmp(v, "on");
}

/* An IPVS switch (sysctl): yes or no, nothing else. */
static int set_switch(struct load_ctx *c, const char *k, const char *v, int *out)
{
	if (!parse_bool(v) && strcasecmp(v, "no") && strcasecmp(v, "false") && strcmp(v, "0") &&
	    strcasecmp(v, "off"))
		return fail(c, "%s '%s' must be yes or no", k, v);
	*out = parse_bool(v);
	return 1;
}

static int set_dataplane(struct load_ctx *c, const char *k, const char *v)
{
	struct xvs_dp_config *cfg = &c->dp->cfg;
	unsigned long n;
	if (!strcmp(k, "lcores")) {
		cfg->lcores_auto = !strcmp(v, "auto");
		snprintf(cfg->lcores, sizeof(cfg->lcores), "%s", v);
	} else if (!strcmp(k, "workers")) {
		if (parse_uint(v, XVS_MAX_LCORES, &n) < 0 || n < 1)
			return fail(c, "workers '%s' must be 1.." RTE_STR(XVS_MAX_LCORES) "%s", v, "");
		cfg->workers = (unsigned)n;
	} else if (!strcmp(k, "numa_force"))
		cfg->numa_force = parse_bool(v);
	else if (!strcmp(k, "steering_seed")) {
		char *end;
		errno = 0;
		cfg->steering_seed = strtoull(v, &end, 0);
		if (errno || *end || end == v || v[0] == '-')
			return fail(c, "steering_seed '%s' must be a number%s", v, "");
		cfg->steering_seed_set = 1;
	} else if (!strcmp(k, "steering")) {
		static const char *const modes[] = { "auto", "software", "nic" };
		unsigned i;
		for (i = 0; i < 3 && strcmp(v, modes[i]); i++)
			;
		if (i == 3)
			return fail(c, "steering '%s' must be auto, software or nic%s", v, "");
		cfg->steering = (int)i;
	}
	else if (!strcmp(k, "file_prefix"))
		snprintf(cfg->file_prefix, sizeof(cfg->file_prefix), "%s", v);
	else if (!strcmp(k, "huge_dir"))
		snprintf(cfg->huge_dir, sizeof(cfg->huge_dir), "%s", v);
	else if (!strcmp(k, "shm"))
		snprintf(cfg->shm_path, sizeof(cfg->shm_path), "%s", v);
	else if (!strcmp(k, "eal_args"))
		snprintf(cfg->eal_args, sizeof(cfg->eal_args), "%s", v);
	else if (!strcmp(k, "in_memory"))
		cfg->in_memory = parse_bool(v);
	else if (!strcmp(k, "memory")) {
		if (parse_uint(v, 1 << 20, &n) < 0)
			return fail(c, "bad memory '%s'%s", v, "");
		cfg->memory_mb = (unsigned)n;
	} else if (!strcmp(k, "idle_sleep_us")) {
		if (parse_uint(v, 100000, &n) < 0)
			return fail(c, "idle_sleep_us '%s' must be 0..100000%s", v, "");
		cfg->idle_sleep_us = (unsigned)n;
	} else if (!strcmp(k, "sloppy_tcp")) {
		return set_switch(c, k, v, &cfg->sloppy_tcp);
	} else if (!strcmp(k, "sloppy_sctp")) {
		return set_switch(c, k, v, &cfg->sloppy_sctp);
	} else if (!strcmp(k, "consistent_midflow")) {
		return set_switch(c, k, v, &cfg->consistent_midflow);
	} else if (!strcmp(k, "expire_nodest_conn")) {
		return set_switch(c, k, v, &cfg->expire_nodest_conn);
	} else if (!strcmp(k, "expire_quiescent_template")) {
		return set_switch(c, k, v, &cfg->expire_quiescent_template);
	} else if (!strcmp(k, "conn_max")) {
		if (parse_uint(v, 1u << 24, &n) < 0 || n < 16 || (n & (n - 1)))
			return fail(c, "conn_max '%s' must be a power of two, 16..16777216%s", v, "");
		cfg->conn_max = (uint32_t)n;
	} else if (!strcmp(k, "neigh_reachable_ms")) {
		if (parse_uint(v, 3600000, &n) < 0 || n < 100)
			return fail(c, "neigh_reachable_ms '%s' must be 100..3600000%s", v, "");
		cfg->neigh_reachable_ms = (uint32_t)n;
	} else if (!strcmp(k, "conn_persist")) {
		return set_switch(c, k, v, &cfg->conn_persist);
	} else if (!strcmp(k, "conn_dir")) {
		if (v[0] != '/' || strlen(v) >= sizeof(cfg->conn_dir))
			return fail(c, "conn_dir '%s' must be an absolute path%s", v, "");
		snprintf(cfg->conn_dir, sizeof(cfg->conn_dir), "%s", v);
	} else
		return fail(c, "unknown key '%s' in [dataplane]%s", k, "");
	return 1;
}

static struct xvs_port *port_named(struct load_ctx *c, const char *name, int create)
{
	struct xvs_dp *dp = c->dp;
	for (unsigned i = 0; i < dp->nb_ports; i++)
		if (!strcmp(dp->ports[i].name, name))
			return &dp->ports[i];
	if (!create || dp->nb_ports >= XVS_MAX_PORTS)
		return NULL;
	struct xvs_port *p = &dp->ports[dp->nb_ports++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->rxq_size = 1024;
	p->txq_size = 1024;
	p->node = -1;
	return p;
}

/* A kernel interface name xvs creates: IFNAMSIZ - 1 characters at most, nothing that a
 * device argument list (",", "=") or a path would read otherwise. */
static int exc_name_ok(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 15 || !strcmp(v, ".") || !strcmp(v, ".."))
		return 0;
	return strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static int set_port(struct load_ctx *c, const char *pname, const char *k, const char *v)
{
	struct xvs_port *p = port_named(c, pname, 1);
	unsigned long n;
	if (!p)
		return fail(c, "too many ports (at '%s')%s", pname, "");
	if (!strcmp(k, "dev"))
		snprintf(p->dev, sizeof(p->dev), "%s", v);
	else if (!strcmp(k, "addr")) {
		uint8_t af, len;
		union xvs_ip a;
		if (xvs_config_parse_prefix_any(v, &af, &a, &len) < 0)
			return fail(c, "bad address '%s' on port %s", v, pname);
		if (af == XVS_AF_INET && p->nb_addrs < XVS_MAX_PORT_ADDRS) {
			p->addr[p->nb_addrs] = a.v4;
			p->plen[p->nb_addrs++] = len;
		} else if (af == XVS_AF_INET6 && p->nb_addrs6 < XVS_MAX_PORT_ADDRS) {
			p->addr6[p->nb_addrs6] = a;
			p->plen6[p->nb_addrs6++] = len;
		} else {
			return fail(c, "too many addresses on port %s%s", pname, "");
		}
	} else if (!strcmp(k, "mac")) {
		if (rte_ether_unformat_addr(v, &p->mac) < 0)
			return fail(c, "bad mac '%s' on port %s", v, pname);
		p->mac_set = 1;
	} else if (!strcmp(k, "mtu")) {
		if (parse_uint(v, 9702, &n) < 0 || n < 576)
			return fail(c, "bad mtu '%s' on port %s (576..9702)", v, pname);
		p->mtu = (uint16_t)n;
	} else if (!strcmp(k, "tunnel_src")) {
		if (xvs_config_parse_prefix(v, &p->tun_src, &p->tun_src_len) < 0 || p->tun_src_len == 0)
			return fail(c, "bad tunnel_src '%s' on port %s", v, pname);
		/* the host part is chosen per flow: keep only the network part */
		if (p->tun_src_len < 32)
			p->tun_src &= rte_cpu_to_be_32(~0u << (32 - p->tun_src_len));
	} else if (!strcmp(k, "faces")) {
		static const char *const sides[] = { "", "clients", "servers", "both" };
		unsigned i;
		for (i = 1; i < 4 && strcmp(v, sides[i]); i++)
			;
		if (i == 4)
			return fail(c, "faces '%s' on port %s must be clients, servers or both", v, pname);
		p->faces = (uint8_t)i;
	} else if (!strcmp(k, "exception")) {
		return set_switch(c, k, v, &p->exc);
	} else if (!strcmp(k, "vip_neigh")) {
		if (strcmp(v, "xvs") && strcmp(v, "kernel"))
			return fail(c, "vip_neigh '%s' on port %s must be xvs or kernel", v, pname);
		p->vip_neigh_kernel = !strcmp(v, "kernel");
	} else if (!strcmp(k, "exception_name")) {
		if (!exc_name_ok(v))
			return fail(c, "bad exception_name '%s' on port %s (1..15 characters of "
				    "A-Z a-z 0-9 _ . -)", v, pname);
		snprintf(p->exc_name, sizeof(p->exc_name), "%s", v);
	} else if (!strcmp(k, "exception_rate")) {
		if (parse_uint(v, XVS_EXC_RATE_MAX, &n) < 0 || n < 1)
			return fail(c, "bad exception_rate '%s' on port %s (1.."
				    RTE_STR(XVS_EXC_RATE_MAX) " packets/s)", v, pname);
		p->exc_rate = (uint32_t)n;
	} else if (!strcmp(k, "exception_burst")) {
		if (parse_uint(v, XVS_EXC_BURST_MAX, &n) < 0 || n < 1)
			return fail(c, "bad exception_burst '%s' on port %s (1.."
				    RTE_STR(XVS_EXC_BURST_MAX) " packets)", v, pname);
		p->exc_burst = (uint32_t)n;
	} else if (!strcmp(k, "rxq_size") || !strcmp(k, "txq_size")) {
		if (parse_uint(v, 16384, &n) < 0 || n < 64)
			return fail(c, "bad queue size '%s' on port %s", v, pname);
		*(k[0] == 'r' ? &p->rxq_size : &p->txq_size) = (uint16_t)n;
	} else
		return fail(c, "unknown key '%s' in port %s", k, pname);
	return 1;
}

/* "prefix [via gw]", IPv4 or IPv6 */
static int add_route(struct load_ctx *c, const char *v)
{
	struct xvs_cfg_extra *x = c->x;
	char pfx[80] = "", via[8] = "", gw[80] = "";
	int n = sscanf(v, "%79s %7s %79s", pfx, via, gw);
	if (x->nb_routes >= XVS_MAX_ROUTES)
		return fail(c, "too many routes%s%s", "", "");
	typeof(x->routes[0]) *r = &x->routes[x->nb_routes];
	memset(r, 0, sizeof(*r));
	if (xvs_config_parse_prefix_any(pfx, &r->af, &r->prefix, &r->len) < 0)
		return fail(c, "bad route '%s'%s", v, "");
	uint8_t gaf, glen;
	if (n != 3 || strcmp(via, "via") || xvs_config_parse_prefix_any(gw, &gaf, &r->gw, &glen) < 0 ||
	    gaf != r->af)
		return fail(c, "bad route '%s' (want: prefix via gateway, one family)%s", v, "");
	x->nb_routes++;
	return 1;
}

/* "ip mac [port]"; the port is informative: the route to ip decides. */
static int add_neigh(struct load_ctx *c, const char *v)
{
	struct xvs_cfg_extra *x = c->x;
	char ip[80] = "", mac[64] = "";
	uint8_t len;
	if (x->nb_neigh >= XVS_MAX_CFG_NEIGH)
		return fail(c, "too many static neighbours%s%s", "", "");
	struct xvs_cfg_neigh *e = &x->neigh[x->nb_neigh];
	if (sscanf(v, "%79s %63s", ip, mac) != 2 || strchr(ip, '/') ||
	    xvs_config_parse_prefix_any(ip, &e->af, &e->ip, &len) < 0 ||
	    rte_ether_unformat_addr(mac, &e->mac) < 0)
		return fail(c, "bad neighbour '%s' (want: ip mac [port])%s", v, "");
	x->nb_neigh++;
	return 1;
}

static int on_key(void *user, const char *section, const char *k, const char *v)
{
	struct load_ctx *c = user;
	if (c->failed)
		return 0;
	if (!strcmp(section, "dataplane"))
		return set_dataplane(c, k, v);
	if (!strncmp(section, "port ", 5) && section[5])
		return set_port(c, section + 5, k, v);
	if (!strcmp(section, "routes") && !strcmp(k, "route"))
		return add_route(c, v);
	if (!strcmp(section, "neighbours") && !strcmp(k, "neigh"))
		return add_neigh(c, v);
	return fail(c, "unknown key '%s' in [%s]", k, section);
}

/* The kernel interface named in a vdev's "iface=" argument, or "". */
static void dev_iface(const char *dev, char *out, size_t len)
{
	const char *i = strstr(dev, "iface=");
	out[0] = 0;
	if (i)
		snprintf(out, len, "%.*s", (int)strcspn(i + 6, ","), i + 6);
}

/*
 * The exception keys need exception = yes; an exception interface gets the defaults, and its
 * name must be new: not another port's exception interface, nor a port's own interface.
 */
static int check_exception(const char *path, struct xvs_dp *dp, char *err, size_t errlen)
{
	for (unsigned i = 0; i < dp->nb_ports; i++) {
		struct xvs_port *p = &dp->ports[i];
		if (!p->exc) {
			if (p->exc_name[0] || p->exc_rate || p->exc_burst || p->vip_neigh_kernel) {
				snprintf(err, errlen, "%s: port %s: exception_name, exception_rate, "
					 "exception_burst and vip_neigh = kernel need exception = yes",
					 path, p->name);
				return -EINVAL;
			}
			continue;
		}
		if (!p->exc_name[0]) {
			if (strlen(p->name) > 11) {
				snprintf(err, errlen, "%s: port %s: the default exception_name xvs-%s "
					 "is too long for the kernel: set exception_name", path, p->name, p->name);
				return -EINVAL;
			}
			char def[sizeof(p->name) + 4];
			snprintf(def, sizeof(def), "xvs-%s", p->name);
			snprintf(p->exc_name, sizeof(p->exc_name), "%.15s", def);
			if (!exc_name_ok(p->exc_name)) {
				snprintf(err, errlen, "%s: port %s: the default exception_name %s is not a "
					 "valid name: set exception_name", path, p->name, p->exc_name);
				return -EINVAL;
			}
		}
		if (!p->exc_rate)
			p->exc_rate = XVS_EXC_RATE_DEFAULT;
		if (!p->exc_burst)
			p->exc_burst = XVS_EXC_BURST_DEFAULT;
	}
	for (unsigned i = 0; i < dp->nb_ports; i++) {
		const struct xvs_port *p = &dp->ports[i];
		for (unsigned j = 0; p->exc && j < dp->nb_ports; j++) {
			char iface[64];
			dev_iface(dp->ports[j].dev, iface, sizeof(iface));
			const char *clash = !strcmp(iface, p->exc_name) ? "the interface of port" :
					    j != i && dp->ports[j].exc &&
					    !strcmp(dp->ports[j].exc_name, p->exc_name) ?
					    "the exception interface of port" : NULL;
			if (clash) {
				snprintf(err, errlen, "%s: port %s: exception_name %s is already %s %s",
					 path, p->name, p->exc_name, clash, dp->ports[j].name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int xvs_config_load(const char *path, struct xvs_dp *dp, struct xvs_cfg_extra *x, char *err,
		    size_t errlen)
{
	struct xvs_dp_config *cfg = &dp->cfg;
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->lcores, sizeof(cfg->lcores), "0");
	snprintf(cfg->file_prefix, sizeof(cfg->file_prefix), "xvs");
	snprintf(cfg->huge_dir, sizeof(cfg->huge_dir), "none");
	snprintf(cfg->shm_path, sizeof(cfg->shm_path), "%s", XVS_SHM_DEFAULT_PATH);
	cfg->memory_mb = 512;
	cfg->conn_max = 65536;
	cfg->conn_persist = 1;
	cfg->consistent_midflow = 1;
	dp->nb_ports = 0;
	memset(x, 0, sizeof(*x));

	struct load_ctx c = { .dp = dp, .x = x, .err = err, .errlen = errlen };
	int line = ini_parse(path, on_key, &c);
	if (line < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -ENOENT;
	}
	if (line > 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s", c.failed ? err : "syntax error");
		snprintf(err, errlen, "%s:%d: %s", path, line, msg);
		return -EINVAL;
	}
	for (unsigned i = 0; i < dp->nb_ports; i++)
		if (!dp->ports[i].dev[0]) {
			snprintf(err, errlen, "%s: port %s has no dev", path, dp->ports[i].name);
			return -EINVAL;
		}
	if (dp->nb_ports == 0) {
		snprintf(err, errlen, "%s: no [port NAME] section", path);
		return -EINVAL;
	}
	if (check_exception(path, dp, err, errlen) < 0)
		return -EINVAL;
	if (cfg->workers && !cfg->lcores_auto) {
		snprintf(err, errlen, "%s: workers needs lcores = auto (an lcores list names its workers)", path);
		return -EINVAL;
	}
	return 0;
}
