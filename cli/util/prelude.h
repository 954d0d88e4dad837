/* Force-included before every deployctl source file (Makefile: -include).
 * It pulls in the system headers that banned.h would otherwise break, then
 * bans the functions we never want to see. */
#ifndef DC_PRELUDE_H
#define DC_PRELUDE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/banned.h"

#endif
