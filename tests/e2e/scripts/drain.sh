#!/bin/sh
# drain.sh TAG CODE: on SIGTERM, take a moment to finish (as a server drains its requests),
# then write /out/TAG.done and exit CODE. /out/TAG.ready once trapping.
tag=$1
code=$2
# shellcheck disable=SC2064 # $tag and $code are meant to expand now
trap "sleep 1; echo done >/out/$tag.done; exit $code" TERM
echo ready >"/out/$tag.ready"
while :; do sleep 0.1 & wait $!; done
