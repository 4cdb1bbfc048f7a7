build2/obj/traces/hak_util.o: traces/hak_util.c traces/hak_util.h
traces/hak_util.h:
