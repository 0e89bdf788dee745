/*
 * language.h — the languages the UI speaks, as a clinic setting. Pure.
 *
 * "auto" (the default) lets each browser use its own language when the UI
 * has a catalogue for it, else English; "en" and "de" make every staff
 * screen use that one. The patient's rebooking page follows the patient's
 * browser when it has that language, and this setting only otherwise. The UI's
 * catalogues are in web/ (docs/ui.md); this list must name only languages
 * it has.
 */
#ifndef CLINICBOX_LANGUAGE_H
#define CLINICBOX_LANGUAGE_H

#include <stdbool.h>

#define LANGUAGE_DEFAULT "auto"
#define LANGUAGE_BUF 8 /* the longest value with its NUL */
/* For messages: the values in the order they are listed. */
#define LANGUAGE_CHOICES "auto, en or de"

/* Whether s is one of the values. */
bool language_valid(const char *s);

#endif
