"""pandas.read_csv on one file, as the seed's process_csv does; prints one JSON line.

Usage: python3 bench/csv/pandas_read.py FILE
"""
import json
import resource
import sys
import time

import pandas as pd

path = sys.argv[1]
started = time.perf_counter()
df = pd.read_csv(path)
rows = len(df)
seconds = time.perf_counter() - started
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
print("PANDAS_JSON " + json.dumps({"rows": rows, "seconds": seconds, "peakRssKb": peak_kb, "pandas": pd.__version__}))
