# Turns src/auth/common-passwords.txt into one C string (see auth/password.c,
# which splits it into lines at start-up). Called with -DIN=... -DOUT=...
file(READ ${IN} text)
string(REPLACE "\r" "" text "${text}")
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
# A "??x" sequence would be a trigraph in C17: escape every '?'.
string(REPLACE "?" "\\?" text "${text}")
string(REPLACE "\n" "\\n\"\n\"" text "${text}")
file(WRITE ${OUT} "/* generated from ${IN} by embed_passwords.cmake; do not edit */
extern const char pw_common_text[];
const char pw_common_text[] = \"${text}\";
")
