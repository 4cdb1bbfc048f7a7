build2/obj/traces/synth_heap.o: traces/synth_heap.c traces/synth_heap.h
traces/synth_heap.h:
