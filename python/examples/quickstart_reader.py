"""Quick start, terminal 2: open the region and read the writer's numbers in place."""

import numpy as np

import zinc

with zinc.SharedRegion.open("quickstart-py") as region:
    if region.wait(5000):  # the writer's notify; pending already if it came first
        arr = region.as_numpy(np.float64)
        print(arr[:5])
