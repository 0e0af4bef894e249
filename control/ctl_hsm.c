/* The checker state machine (see ctl_hsm.h). */
#include "ctl_hsm.h"

#define MS 1000000ULL

void xvs_hsm_start(struct xvs_hsm *s, bool up, bool announce, uint64_t now_ns,
		   uint64_t first_delay_ns)
{
	*s = (struct xvs_hsm){.up = up, .announce = announce && !up,
			      .next_ns = now_ns + first_delay_ns};
}

static enum xvs_hsm_event result_up(struct xvs_hsm *s, const struct xvs_hsm_cfg *c, bool ok,
				    uint64_t now_ns)
{
	uint64_t delay = c->interval_ms;
	enum xvs_hsm_event ev = XVS_HSM_NONE;
	if (ok) {
		s->retry_it = 0;
		s->nb_fail = 0;
		s->nb_ok++;
	} else if (!s->has_run) {
		/* never seen healthy: no retries, no fall */
		s->retry_it = 0;
		s->nb_ok = 0;
		s->nb_fail = 1;
		s->up = false;
		ev = XVS_HSM_DOWN;
	} else if (s->retry_it < c->retry) {
		s->retry_it++;
		s->nb_ok = 0;
		delay = c->delay_before_retry_ms;
	} else {
		s->retry_it = 0;
		s->nb_ok = 0;
		if (++s->nb_fail >= c->fall) {
			s->up = false;
			ev = XVS_HSM_DOWN;
		}
	}
	s->next_ns = now_ns + delay * MS;
	return ev;
}

static enum xvs_hsm_event result_down(struct xvs_hsm *s, const struct xvs_hsm_cfg *c, bool ok,
				      uint64_t now_ns)
{
	enum xvs_hsm_event ev = XVS_HSM_NONE;
	s->retry_it = 0;
	s->next_ns = now_ns + (uint64_t)c->interval_ms * MS;
	if (!ok) {
		s->nb_ok = 0;
		s->nb_fail++;
		if (!s->has_run && s->announce)
			ev = XVS_HSM_ANNOUNCE;
		return ev;
	}
	s->nb_fail = 0;
	if (++s->nb_ok >= c->rise) {
		s->up = true;
		ev = XVS_HSM_UP;
	}
	return ev;
}

enum xvs_hsm_event xvs_hsm_result(struct xvs_hsm *s, const struct xvs_hsm_cfg *c, bool ok,
				  uint64_t now_ns)
{
	enum xvs_hsm_event ev = s->up ? result_up(s, c, ok, now_ns) : result_down(s, c, ok, now_ns);
	/* A retry pending is not the end of a check. */
	if (s->retry_it == 0)
		s->has_run = true;
	return ev;
}

bool xvs_hsm_retrying(const struct xvs_hsm *s)
{
	return s->retry_it > 0;
}

bool xvs_hsm_dest_alive(const struct xvs_hsm *const *checks, unsigned nb)
{
	for (unsigned i = 0; i < nb; i++)
		if (!checks[i]->up)
			return false;
	return true;
}

int32_t xvs_hsm_dest_weight(const int32_t *dyn_weights, unsigned nb)
{
	int32_t w = -1;
	for (unsigned i = 0; i < nb; i++)
		if (dyn_weights[i] >= 0 && (w < 0 || dyn_weights[i] < w))
			w = dyn_weights[i];
	return w;
}
