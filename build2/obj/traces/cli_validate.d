build2/obj/traces/cli_validate.o: traces/cli_validate.c \
 traces/cli_common.h traces/trace.h traces/heapmodel.h traces/hak_util.h
traces/cli_common.h:
traces/trace.h:
traces/heapmodel.h:
traces/hak_util.h:
