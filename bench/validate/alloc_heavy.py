# bench/validate/alloc_heavy.py - the python3 program of the validation
# study: grows a dict-of-lists working set to a peak, churns short-lived
# objects, then frees most of it, so peak and final heap differ.
import random
random.seed(7)
keep = {}
for i in range(200000):
    keep["k%d" % i] = [i, str(i) * 3, (i, i + 1)]
    if i % 5 == 0:
        tmp = [str(j) for j in range(20)]
for i in range(0, 200000, 2):
    del keep["k%d" % i]
s = sum(len(v[1]) for v in keep.values())
print(len(keep), s)
