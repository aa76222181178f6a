#!/bin/sh
logger last
