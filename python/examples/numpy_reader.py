"""The numpy example, reader: read the writer's values in place, then tell it
that it may close the region."""

import numpy as np

import zinc

with zinc.SharedRegion.open("numpy-demo") as region:
    region.wait(5000)
    arr = region.as_numpy(np.float64)
    print(arr[:4])
    print(arr[1] == 1 / 2047, arr[-1])
    region.notify()
