build2/obj/recorder/rec_config.o: recorder/rec_config.c \
 recorder/rec_internal.h traces/trace.h recorder/rec_config.h
recorder/rec_internal.h:
traces/trace.h:
recorder/rec_config.h:
