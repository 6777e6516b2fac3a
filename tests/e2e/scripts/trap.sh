#!/bin/sh
# trap.sh TAG CODE: exit with CODE on SIGTERM; /out/TAG.ready once trapping.
tag=$1
code=$2
# shellcheck disable=SC2064 # $code is meant to expand now
trap "exit $code" TERM
echo ready >"/out/$tag.ready"
while :; do sleep 0.1; done
