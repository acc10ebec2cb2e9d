/* JSON figures and text: see json_out.h. */
#include "json_out.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_object *wg_json_fixed(double v, const char *fmt)
{
    if (!isfinite(v)) return NULL;
    char buf[64];
    snprintf(buf, sizeof buf, fmt, v);
    return json_object_new_double_s(v, buf);
}

json_object *wg_json_short(double v)
{
    char b[32];
    snprintf(b, sizeof b, "%.10g", v);
    return json_object_new_double_s(v, b);
}

char *wg_json_text(json_object *o)
{
    const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
    const char *t = o ? json_object_to_json_string_ext(o, flags) : NULL;
    char *copy = t ? strdup(t) : NULL;
    json_object_put(o);
    return copy;
}
