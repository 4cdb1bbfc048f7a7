build2/obj/recorder/record_cli.o: recorder/record_cli.c \
 analysis/hak_cli.h traces/hak_util.h recorder/rec_config.h
analysis/hak_cli.h:
traces/hak_util.h:
recorder/rec_config.h:
