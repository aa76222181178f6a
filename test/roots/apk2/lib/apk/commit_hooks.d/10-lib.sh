#!/bin/sh
logger lib
