-- 012: every metric a writer stores has its row in the registry (metric_info:
-- name, unit, which direction is better, what it is).  These were stored by
-- hak replay (heap-only figures, harness corrections, the allocator's own
-- statistics through hak_alloc_stats) and hak sim without one, so `hak db
-- best` and `compare` had to guess their direction from the name.
-- analysis/tests/metric_registry.sh fails when a writer stores a name that
-- has no row here.  Figures that describe a configuration or a count of
-- events rather than a cost ("better" has to be one of the two) are 'lower':
-- less memory, fewer events.
INSERT OR IGNORE INTO metric_info(name, unit, better, description) VALUES
  ('heap.peak_rss_bytes',        'bytes', 'lower',  'peak resident heap of the replay (anonymous memory minus the worker''s own), comparable with a live run''s heap-only RSS'),
  ('heap.final_rss_bytes',       'bytes', 'lower',  'resident heap at the end of the measured window'),
  ('heap.start_rss_bytes',       'bytes', 'lower',  'resident heap when the measured window began'),
  ('heap.non_heap_anon_bytes',   'bytes', 'lower',  'anonymous memory of the worker itself (image, harness), taken off the heap figures'),
  ('harness.shared_rss',         'bytes', 'lower',  'resident memory of the replay harness, not of the allocator'),
  ('harness.vmhwm_raw',          'bytes', 'lower',  'the worker''s VmHWM before the harness correction'),
  ('latency.samples',            'count', 'higher', 'operations timed for the latency percentiles'),
  ('replay.passes',              'count', 'higher', 'passes over the trace in the measured window (--min-time)'),
  ('alloc.bytes_mapped',         'bytes', 'lower',  'HAKMEM: bytes mapped (SuperSlabs and large blocks)'),
  ('alloc.bytes_live',           'bytes', 'lower',  'HAKMEM: bytes in blocks the program holds'),
  ('alloc.bytes_cached',         'bytes', 'lower',  'HAKMEM: bytes in thread caches'),
  ('alloc.superslabs',           'count', 'lower',  'HAKMEM: SuperSlabs mapped'),
  ('alloc.superslabs_cached',    'count', 'lower',  'HAKMEM: empty SuperSlabs kept for reuse'),
  ('alloc.superslabs_abandoned', 'count', 'lower',  'HAKMEM: SuperSlabs whose thread exited'),
  ('alloc.superslab_size',       'bytes', 'lower',  'HAKMEM: SuperSlab size (configuration)'),
  ('alloc.slab_size',            'bytes', 'lower',  'HAKMEM: slab size (configuration)'),
  ('alloc.slabs',                'count', 'lower',  'HAKMEM: slabs carved for the size classes'),
  ('alloc.class_capacity_bytes', 'bytes', 'lower',  'HAKMEM: capacity of the size classes'' slabs'),
  ('alloc.class_used_bytes',     'bytes', 'lower',  'HAKMEM: bytes of size-class blocks in use'),
  ('alloc.class_cached_bytes',   'bytes', 'lower',  'HAKMEM: bytes of size-class blocks in thread caches'),
  ('alloc.large_blocks',         'count', 'lower',  'HAKMEM: live directly mapped blocks'),
  ('alloc.large_bytes',          'bytes', 'lower',  'HAKMEM: bytes mapped for large blocks'),
  ('alloc.large_cached',         'count', 'lower',  'HAKMEM: large mappings in the reuse cache'),
  ('alloc.purges',               'count', 'lower',  'HAKMEM: madvise calls that released memory'),
  ('alloc.purged_bytes',         'bytes', 'lower',  'HAKMEM: bytes released by purges'),
  ('alloc.calloc_zeroed_bytes',  'bytes', 'lower',  'HAKMEM: calloc bytes cleared with memset'),
  ('alloc.calloc_skipped_bytes', 'bytes', 'higher', 'HAKMEM: calloc bytes known zero and not cleared'),
  ('alloc.remote_frees',         'count', 'lower',  'HAKMEM: blocks freed by a thread that does not own them'),
  ('alloc.foreign_frees',        'count', 'lower',  'HAKMEM: frees of pointers that are not HAKMEM''s'),
  ('alloc.threads',              'count', 'lower',  'HAKMEM: thread heaps alive'),
  ('alloc.thread_exits',         'count', 'lower',  'HAKMEM: thread heaps returned at thread exit'),
  ('alloc.adopted',              'count', 'lower',  'HAKMEM: abandoned SuperSlabs taken over by a thread'),
  ('alloc.prefault_bytes',       'bytes', 'lower',  'HAKMEM: bytes prefaulted (HAKMEM_PREFAULT)'),
  ('alloc.heaps_adopted',        'count', 'lower',  'HAKMEM: parked thread heaps taken over by a new thread'),
  ('alloc.heaps_parked',         'count', 'lower',  'HAKMEM: thread heaps parked at thread exit'),
  ('sim.peak_live_bytes',        'bytes', 'lower',  'simulated: peak live bytes'),
  ('sim.pages_ever_spanned',     'count', 'lower',  'simulated: 4 KiB pages that ever held live data'),
  ('sim.final_pages_spanned',    'count', 'lower',  'simulated: 4 KiB pages holding live data at the end'),
  ('sim.allocs',                 'count', 'higher', 'simulated: allocations served'),
  ('sim.failed_allocs',          'count', 'lower',  'simulated: allocations the allocator refused'),
  ('sim.skipped_ops',            'count', 'lower',  'simulated: operations skipped (their block failed)'),
  ('sim.l1_dtlb_miss_rate',      'ratio', 'lower',  'simulated L1 data TLB misses per access'),
  ('sim.page_walk_rate',         'ratio', 'lower',  'simulated page walks per access'),
  ('sim.model_minor_faults',     'count', 'lower',  'minor faults of the simulating process itself (the model''s own memory)'),
  ('sim.wall_ns',                'ns',    'lower',  'wall time of the simulation'),
  ('sim.accesses_per_s',         '1/s',   'higher', 'addresses the model processed per second');
