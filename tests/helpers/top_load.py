#!/usr/bin/env python3
"""Workloads for the `redline top` tests (stdlib only).

  busy SECONDS   getppid in batches of 1000, 1 ms apart: ~500k syscalls/s
  slow SECONDS   17 ms sleeps (clock_nanosleep): p99 in 16.8-33.6 ms, with
                 16 ms of headroom for CPU wait on a loaded machine
"""
import os
import sys
import time


def main():
    mode, end = sys.argv[1], time.time() + float(sys.argv[2])
    while time.time() < end:
        if mode == "busy":
            for _ in range(1000):
                os.getppid()
            time.sleep(0.001)
        else:
            time.sleep(0.017)


if __name__ == "__main__":
    main()
