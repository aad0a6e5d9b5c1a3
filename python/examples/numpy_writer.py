"""The numpy example, writer: fill a region with np.linspace(0, 1, 2048) and
keep it open until the reader says it is done (a region lives only while its
creator has it open)."""

import numpy as np

import zinc

with zinc.SharedRegion.create("numpy-demo", 4 * zinc.PAGE_SIZE) as region:
    arr = region.as_numpy(np.float64)  # 2048 float64 values
    arr[:] = np.linspace(0, 1, 2048)
    region.notify()
    region.try_wait()  # our own notify; the next one is the reader's
    print("written; waiting for the reader")
    if region.wait(60_000):
        print("the reader is done; closing")
