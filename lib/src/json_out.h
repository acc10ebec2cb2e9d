/* Private: JSON the library writes as text (reports, diffs, events, the calendar). json-c
 * prints a double with 17 significant digits; these print what the figure means. */
#ifndef WANGGE_JSON_OUT_H
#define WANGGE_JSON_OUT_H

#include <json-c/json.h>

/* v printed with fmt (a printf conversion for one double, e.g. "%.1f"); NULL (JSON null) for
 * NaN or an infinity, which mean "no figure". */
json_object *wg_json_fixed(double v, const char *fmt);
/* v in its shortest exact-enough spelling ("%.10g"). */
json_object *wg_json_short(double v);
/* o as compact text (no slash escapes), malloc'd: the caller frees it. Consumes o; NULL when o
 * is NULL or memory runs out. */
char *wg_json_text(json_object *o);

#endif
