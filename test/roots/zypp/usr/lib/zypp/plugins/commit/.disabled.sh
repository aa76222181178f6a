#!/bin/bash
# a commit plugin answers each frame (NUL-terminated, STOMP-like) with ACK
touch "/tmp/zypp-markers/${0##*/}"
while IFS= read -r -d '' frame; do
  printf 'ACK\n\n\0'
  [ "${frame%%$'\n'*}" = _DISCONNECT ] && exit 0
done
