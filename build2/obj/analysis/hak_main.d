build2/obj/analysis/hak_main.o: analysis/hak_main.c analysis/hak_cli.h \
 traces/hak_util.h
analysis/hak_cli.h:
traces/hak_util.h:
