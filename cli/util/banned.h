/* Functions that are too easy to misuse, made into compile errors (git's
 * banned.h). Included last by every .c file through the Makefile's -include. */
#ifndef DC_BANNED_H
#define DC_BANNED_H

#define DC_BANNED(func) sorry_##func##_is_banned_in_deployctl

#undef strcpy
#define strcpy(x, y) DC_BANNED(strcpy)
#undef strcat
#define strcat(x, y) DC_BANNED(strcat)
#undef sprintf
#define sprintf(...) DC_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) DC_BANNED(vsprintf)
#undef atoi
#define atoi(x) DC_BANNED(atoi)
#undef gmtime
#define gmtime(x) DC_BANNED(gmtime)
#undef localtime
#define localtime(x) DC_BANNED(localtime)
#undef strtok
#define strtok(x, y) DC_BANNED(strtok)

#endif
