/* language.c — see language.h. */
#include "domain/language.h"

#include <stddef.h>
#include <string.h>

bool language_valid(const char *s)
{
    static const char *const values[] = {"auto", "en", "de"};
    for (size_t i = 0; s && i < sizeof values / sizeof values[0]; i++)
        if (strcmp(s, values[i]) == 0)
            return true;
    return false;
}
