"""Quick start, terminal 1: create a region, fill it with numbers, notify."""

import numpy as np

import zinc

with zinc.SharedRegion.create("quickstart-py", 256 * zinc.PAGE_SIZE) as region:
    arr = region.as_numpy(np.float64)  # a view of the shared pages, not a copy
    arr[:] = np.arange(arr.size) * 0.5
    region.notify()
    print(f"wrote {arr.size} float64 values into {region!r}")
    input("press Enter to close the region\n")
