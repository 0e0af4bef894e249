/* xvsadm -L --stats --drops: the drop counters by reason, in total and per worker. */
#include <errno.h>
#include <inttypes.h>

#include "xvs/drop.h"
#include "xvs/wire.h"
#include "xvsadm_drops.h"
#include "xvsadm_print.h"

static uint64_t drop_of(const json_t *rec, const char *reason)
{
	const json_t *drops = json_object_get(rec, XVS_WIRE_DROPS);
	json_int_t v = json_integer_value(json_object_get(drops, reason));
	return v > 0 ? (uint64_t)v : 0;
}

int xvs_xvsadm_print_drops(FILE *f, const json_t *stats, unsigned int fmt)
{
	const json_t *workers = json_object_get(stats, XVS_WIRE_PER_WORKER);
	const json_t *main_rec = json_object_get(stats, XVS_WIRE_MAIN_LCORE);
	char col[32];
	size_t i;
	json_t *w;

	if (!json_is_object(json_object_get(stats, XVS_WIRE_DROPS)) || !json_is_array(workers) ||
	    !json_is_object(main_rec))
		return -EPROTO;
	fprintf(f, "\n%-24s %8s", "Drops (xvs)", "Total");
	for (i = 0; i < json_array_size(workers); i++) {
		snprintf(col, sizeof(col), "Worker%zu", i);
		fprintf(f, " %8s", col);
	}
	fprintf(f, " %8s\n", "Main");
	for (unsigned d = 0; d < XVS_DROP_MAX; d++) {
		fprintf(f, "  %-22s", xvs_drop_names[d]);
		xvs_xvsadm_print_largenum(f, drop_of(stats, xvs_drop_names[d]), fmt);
		json_array_foreach(workers, i, w)
			xvs_xvsadm_print_largenum(f, drop_of(w, xvs_drop_names[d]), fmt);
		xvs_xvsadm_print_largenum(f, drop_of(main_rec, xvs_drop_names[d]), fmt);
		fputc('\n', f);
	}
	return 0;
}
