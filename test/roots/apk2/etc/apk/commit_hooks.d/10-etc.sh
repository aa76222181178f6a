#!/bin/sh
logger etc
