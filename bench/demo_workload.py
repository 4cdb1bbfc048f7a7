# bench/demo_workload.py - the program `make demo` records: a small
# allocation-heavy job (parse JSON records, keep a sliding window of them,
# index them by name, build a report string), so the trace has many
# short-lived objects, a long-lived working set and distinct call sites.
import json
import random

random.seed(42)
window = []
for i in range(30000):
    rec = {"id": i, "name": "user%d" % i, "score": random.random() * 100,
           "tags": [str(random.random())[:6] for _ in range(i % 7)]}
    window.append(json.loads(json.dumps(rec)))
    if len(window) > 4000:
        del window[:2000]
index = {r["name"]: r for r in window}
report = "\n".join("%s %.2f %s" % (r["name"], r["score"], ",".join(r["tags"])) for r in index.values())
print("indexed %d records, report %d bytes" % (len(index), len(report)))
