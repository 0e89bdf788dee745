/* utf8.c — see utf8.h. */
#include "core/utf8.h"

size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t want;
    if (s[0] < 0x80)
        return 1;
    else if (s[0] >= 0xc2 && s[0] <= 0xdf)
        want = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        want = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        want = 4;
    else
        return 1;
    if (want > n)
        return 1;
    for (size_t i = 1; i < want; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 1;
    return want;
}
