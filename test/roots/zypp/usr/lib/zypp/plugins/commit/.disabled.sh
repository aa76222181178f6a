#!/bin/bash
# a commit plugin answers each frame (NUL-terminated, STOMP-like) with ACK
d=${0%/*}; mkdir -p "/tmp/zypp-markers/${d##*/}"; touch "/tmp/zypp-markers/${d##*/}/${0##*/}"
while IFS= read -r -d '' frame; do
  printf 'ACK\n\n\0'
  [ "${frame%%$'\n'*}" = _DISCONNECT ] && exit 0
done
