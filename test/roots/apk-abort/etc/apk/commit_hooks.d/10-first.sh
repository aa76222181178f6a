#!/bin/sh
logger first
