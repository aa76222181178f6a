#!/bin/sh
# a commit plugin must answer each STOMP frame with ACK
while IFS= read -r -d "" frame; do printf "ACK\n\n\0"; done
