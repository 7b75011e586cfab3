#!/bin/sh
# Extract every gettext string of the code and templates, merge it into the catalogs and
# compile them (the .mo files are shipped in the package). Then translate what is new in
# authserver/translations/ko/LC_MESSAGES/messages.po and run this again.
set -eu
cd "$(dirname "$0")/.."
pybabel extract -F babel.cfg -k lazy_gettext --no-location --omit-header \
    -o authserver/translations/messages.pot .
pybabel update -i authserver/translations/messages.pot -d authserver/translations \
    --width 100 --ignore-obsolete
pybabel compile -d authserver/translations
