build2/obj/traces/import_android.o: traces/import_android.c \
 traces/import_android.h traces/trace.h traces/trace_fmt.h
traces/import_android.h:
traces/trace.h:
traces/trace_fmt.h:
