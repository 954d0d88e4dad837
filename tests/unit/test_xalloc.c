#include <stdlib.h>

#include "harness.h"
#include "util/xalloc.h"

/* Callers cap a string with it ("at most 500 bytes of the body"): it must
 * not read past the string's end (under ASan a read past it fails). */
void test_xalloc__strndup_stops_at_the_end_of_a_short_string(void)
{
	char *heap = dc_xstrdup("not json");
	char *s = dc_xstrndup(heap, 500);
	check_str(s, "not json");
	free(s);
	s = dc_xstrndup("", 200);
	check_str(s, "");
	free(s);
	s = dc_xstrndup(heap, 3);
	check_str(s, "not");
	free(s);
	free(heap);
}
