-- 010: the simulator's metrics join the registry of metric names, units and
-- directions (metric_info, 002), which `hak db best`, compare and sweep's
-- ranking read.  They used to be inserted by hak sim at run time, so a
-- database that never saw a simulation did not know them.  Every metric a
-- writer stores has its row here, in one place (docs/ARCHITECTURE.md).
INSERT OR IGNORE INTO metric_info(name, unit, better, description) VALUES
  ('sim.l1_dtlb_misses','count','lower','simulated L1 data TLB misses'),
  ('sim.page_walks','count','lower','simulated page walks (STLB misses)'),
  ('sim.faults_4k','count','lower','simulated first-touch faults on 4 KiB pages'),
  ('sim.faults_2m','count','lower','simulated first-touch faults on 2 MiB pages'),
  ('sim.accesses','count','lower','addresses fed to the simulator'),
  ('sim.pages_spanned','count','lower','peak 4 KiB pages holding live data'),
  ('sim.superslabs_spanned','count','lower','peak 2 MiB regions holding live data'),
  ('sim.occupancy','ratio','higher','live bytes per byte of spanned pages at peak live'),
  ('sim.occupancy_mean','ratio','higher','occupancy averaged over the run'),
  ('sim.occupancy_touched','ratio','higher','peak live bytes per byte of pages the workload touched'),
  ('sim.touched_bytes','bytes','lower','bytes of pages the workload touched (faults x page size)'),
  ('sim.huge_regions','count','higher','2 MiB regions backed by a huge page (thp mode)'),
  ('sim.measured_minor_faults','count','lower','minor faults measured in the simulation window');
